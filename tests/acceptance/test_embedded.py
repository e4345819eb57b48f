"""No DSN at all: pgdrip starts, migrates and keeps its own PostgreSQL in PGDRIP_HOME."""

import psycopg
import pytest

from pgdrip.embedded import stop_embedded
from tests.acceptance.cli import pgdrip


@pytest.fixture
def embedded_home(tmp_home):
    yield tmp_home
    stop_embedded(tmp_home)


def test_demo_on_the_embedded_server_writes_mail_and_prints_the_dsn(embedded_home):
    r = pgdrip("demo", home=embedded_home, timeout=180)
    assert r.returncode == 0, r.stderr
    assert "3 message(s) sent" in r.stdout
    assert "applications can connect with: postgresql://" in r.stderr
    mails = list((embedded_home / "mail").glob("*.eml"))
    assert len(mails) == 3
    assert any(b"Subject: Welcome, Ada!" in m.read_bytes() for m in mails)
    # the return path at work: a tracked link followed, a one-click unsubscribe, both recorded
    assert "Ada followed her tracked link: 302 -> https://example.com/getting-started" in r.stdout
    assert "one-click unsubscribe link (RFC 8058 POST): 200" in r.stdout
    assert "/admin/" in r.stdout
    dsn = r.stderr.split("connect with: ")[1].split()[0]
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select count(*) from drip.link_clicks").fetchone()[0] == 1
        assert conn.execute("select email from drip.contacts where unsubscribed_at is not null").fetchall() == [
            ("grace@example.com",)]
    # the server keeps running for applications, and a second run reuses it
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select count(*) from drip.outbox where status = 'sent'").fetchone()[0] == 3
    again = pgdrip("demo", home=embedded_home, timeout=120)
    assert again.returncode == 0 and "0 message(s) sent" in again.stdout, again.stderr
    status = pgdrip("status", "--json", home=embedded_home)
    assert status.returncode == 0 and '"queued": 0' in status.stdout
