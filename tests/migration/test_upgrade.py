"""Upgrading a first-release database in place: `pgdrip migrate` keeps every row, gives queued
mail its text part, and leaves exactly the schema a fresh install has."""

from pathlib import Path

import psycopg
from psycopg.rows import dict_row
from yoyo import get_backend, read_migrations

from pgdrip.migrate import migrate, yoyo_url
from pgdrip.paths import MIGRATIONS_DIR
from tests.migration.test_migrations import blank_db, catalog  # noqa: F401 - the fixture is used below

FIRST_RELEASE = Path(__file__).with_name("first_release_code.sql")


def first_release(dsn: str) -> None:
    """The database as the first release left it: migration 0001, then its code."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create schema if not exists drip")
    backend = get_backend(yoyo_url(dsn))
    try:
        with backend.lock():
            pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
            backend.apply_migrations(pending.filter(lambda m: m.id == "0001.initial-schema"))
    finally:
        backend.connection.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(FIRST_RELEASE.read_text())


def test_a_first_release_database_upgrades_in_place(blank_db):  # noqa: F811
    old = blank_db("drip_upgrade_old")
    first_release(old)
    with psycopg.connect(old, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("select drip.create_sequence_from_prefab('welcome')")
        conn.execute("insert into drip.contacts (email, first_name) select 'u' || g || '@example.com', 'U' || g "
                     "from generate_series(1, 20) g")
        conn.execute("insert into drip.tags (name) values ('welcome')")
        conn.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t")
        conn.execute("call drip.dispatch_due()")
        conn.execute("update drip.outbox set status = 'sent', sent_at = now() where id <= 5")
        before = conn.execute("select id, status, html_body from drip.outbox order by id").fetchall()
        assert conn.execute("select to_regclass('drip.mail_settings') t").fetchone()["t"] is None

    applied, _ = migrate(old)
    assert applied == len(list(MIGRATIONS_DIR.glob("*.sql"))) - 1

    with psycopg.connect(old, autocommit=True, row_factory=dict_row) as conn:
        after = conn.execute("select id, status, html_body, text_body from drip.outbox order by id").fetchall()
        assert [(r["id"], r["status"], r["html_body"]) for r in after] == [
            (r["id"], r["status"], r["html_body"]) for r in before]
        # mail still to be sent got its text part; history keeps none
        queued = [r for r in after if r["status"] == "queued"]
        assert len(queued) == 15 and all(r["text_body"].startswith("Hi U") and "\n\nThanks for joining us." in
                                         r["text_body"] for r in queued)
        assert [r["text_body"] for r in after if r["status"] == "sent"] == [None] * 5
        assert conn.execute("select count(*) n from drip.enrollments where status = 'active'").fetchone()["n"] == 20
        # the new trigger stops mail on unsubscribe; the old one is gone
        conn.execute("update drip.contacts set unsubscribed_at = now() where email = 'u9@example.com'")
        assert conn.execute("select status from drip.outbox o join drip.contacts c on c.id = o.contact_id "
                            "where c.email = 'u9@example.com'").fetchone()["status"] == "cancelled"
        assert conn.execute("select array_agg(tgname::text order by tgname) t from pg_trigger "
                            "where tgrelid = 'drip.contacts'::regclass and not tgisinternal").fetchone()["t"] == [
            "contacts__conditions_insert", "contacts__conditions_update", "contacts__forget", "contacts__stop",
            "contacts__validate", "contacts__validate_attributes"]

    fresh = blank_db("drip_upgrade_fresh")
    migrate(fresh)
    assert catalog(old) == catalog(fresh)
