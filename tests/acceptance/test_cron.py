"""`pgdrip cron install|uninstall` against Debian's pg_cron on the local PostgreSQL 15.
The install test runs when the test server has pg_cron loaded (CI loads it) and is skipped,
with its reason, elsewhere; a server without pg_cron gets a one-line refusal."""

import psycopg
import pytest

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import with_dbname


def cron_db(server_dsn: str) -> str | None:
    with psycopg.connect(with_dbname(server_dsn, "postgres")) as conn:
        return conn.execute("select current_setting('cron.database_name', true)").fetchone()[0]


def test_cron_install_is_idempotent_and_uninstall_removes(server_dsn, dsn, db):
    database = db.execute("select current_database() d").fetchone()["d"]
    cron = cron_db(server_dsn)
    if cron is None:
        pytest.skip("pg_cron is not loaded on the test server (shared_preload_libraries); CI loads it on PostgreSQL 15")
    with psycopg.connect(with_dbname(server_dsn, cron), autocommit=True) as conn:
        conn.execute("create extension if not exists pg_cron")
        for _ in range(2):
            r = pgdrip("cron", "install", "--every", "1", dsn=dsn)
            assert r.returncode == 0, r.stderr
        jobs = conn.execute("select jobname, schedule, command from cron.job where database = %s order by jobname",
                            (database,)).fetchall()
        assert jobs == [(f"pgdrip-compact:{database}", "30 * * * *", "select drip.compact_step_stats()"),
                        (f"pgdrip-dispatch:{database}", "* * * * *", "call drip.dispatch_due()"),
                        (f"pgdrip-prune:{database}", "0 3 * * *", "call drip.prune()"),
                        (f"pgdrip-sweep:{database}", "0 * * * *", "call drip.sweep_due()")]
        r = pgdrip("cron", "uninstall", dsn=dsn)
        assert r.returncode == 0, r.stderr
        assert conn.execute("select count(*) from cron.job where database = %s", (database,)).fetchone()[0] == 0


def test_the_scheduled_commands_run_as_pg_cron_runs_them(dsn, db):
    """pg_cron runs each command as its own top-level statement: a committing CALL must work there."""
    from tests.helpers import add_contact, add_sequence, add_tag

    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.contact_tags values (%s, %s)", (c, add_tag(db, "x")))
    from pgdrip.commands.cron import JOBS

    for command in JOBS.values():
        db.execute(command)
    assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 1


def test_cron_install_on_a_server_without_pg_cron_is_refused_in_one_line(server_dsn, dsn):
    if cron_db(server_dsn) is not None:
        pytest.skip("the test server has pg_cron loaded: the refusal cannot be seen here")
    assert_one_line_error(pgdrip("cron", "install", dsn=dsn), "pg_cron is not loaded")
