"""`pgdrip cron install|uninstall`: let pg_cron schedule dispatch and sweep inside the database.

pg_cron lives in one database of the server (cron.database_name); jobs for this database are
registered there with cron.schedule_in_database and named after it."""

from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
from psycopg.conninfo import make_conninfo

from .. import queries
from ..cli_common import dsn_option, emit
from ..connect import connect, resolve_dsn
from ..errors import PgdripError

JOBS = queries.CRON_COMMANDS


@click.group()
def cron() -> None:
    """Register pgdrip's jobs with pg_cron (the runner then only drains: `pgdrip run --drain-only`).

    \b
    Example:
      pgdrip cron install --every 1
    """


@contextmanager
def cron_connection(dsn: str | None) -> Iterator[tuple[psycopg.Connection, str]]:
    """A connection to pg_cron's database, and the name of the application database."""
    dsn = resolve_dsn(dsn)
    with connect(dsn) as app:
        row = app.execute(queries.CRON_DATABASE).fetchone()
    if not row["cron_db"]:
        raise PgdripError("pg_cron is not loaded on this server; hint: add pg_cron to shared_preload_libraries "
                          "and restart PostgreSQL")
    with connect(make_conninfo(dsn, dbname=row["cron_db"])) as conn:
        if not conn.execute(queries.CRON_AVAILABLE).fetchone()["ok"]:
            raise PgdripError(f"pg_cron is loaded but not created in database {row['cron_db']}; "
                              f"hint: CREATE EXTENSION pg_cron there")
        yield conn, row["app_db"]


def job_name(kind: str, database: str) -> str:
    return f"pgdrip-{kind}:{database}"


@cron.command("install")
@dsn_option
@click.option("--every", type=click.IntRange(1, 59), default=5, show_default=True,
              help="Dispatch every N minutes.")
def install(dsn: str | None, every: int) -> None:
    """Schedule dispatch every N minutes; the anniversary sweep every hour (a date is swept once,
    as soon as it has begun in the first time zone); the step report's compaction every hour;
    and pruning (180 days) daily at 03:00 UTC. Idempotent.

    \b
    Example:
      pgdrip cron install --dsn postgresql://localhost/app
    """
    schedules = {"dispatch": f"*/{every} * * * *" if every > 1 else "* * * * *", "sweep": "0 * * * *",
                 "compact": "30 * * * *", "prune": "0 3 * * *"}
    with cron_connection(dsn) as (conn, database), conn.transaction():
        for kind, command in JOBS.items():
            name = job_name(kind, database)
            conn.execute(queries.CRON_UNSCHEDULE, {"name": name, "database": database})
            conn.execute(queries.CRON_SCHEDULE, {"name": name, "schedule": schedules[kind], "command": command,
                                                 "database": database})
        jobs = conn.execute(queries.CRON_JOBS, {"database": database}).fetchall()
    emit(jobs, ["jobname", "schedule", "command"], False)


@cron.command("uninstall")
@dsn_option
def uninstall(dsn: str | None) -> None:
    """Remove pgdrip's pg_cron jobs for this database.

    \b
    Example:
      pgdrip cron uninstall
    """
    with cron_connection(dsn) as (conn, database), conn.transaction():
        for kind in JOBS:
            conn.execute(queries.CRON_UNSCHEDULE, {"name": job_name(kind, database), "database": database})
    click.echo(f"removed pgdrip's pg_cron jobs for database {database}")


def register(main: click.Group) -> None:
    main.add_command(cron)
