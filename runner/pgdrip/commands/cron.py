"""`pgdrip cron install|uninstall`: let pg_cron schedule dispatch and sweep inside the database."""

import click

from .. import queries
from ..cli_common import dsn_option, emit, open_db
from ..errors import PgdripError

JOBS = {
    "pgdrip-dispatch": "call drip.dispatch_due()",
    "pgdrip-sweep": "call drip.anniversary_sweep()",
}


@click.group()
def cron() -> None:
    """Register pgdrip's jobs with pg_cron (the runner then only drains: `pgdrip run --drain-only`).

    \b
    Example:
      pgdrip cron install --every 1
    """


def _require_pg_cron(conn) -> None:
    if not conn.execute(queries.CRON_AVAILABLE).fetchone()["ok"]:
        raise PgdripError("pg_cron is not installed in this database's server; "
                          "hint: add pg_cron to shared_preload_libraries and CREATE EXTENSION pg_cron")


@cron.command("install")
@dsn_option
@click.option("--every", type=click.IntRange(1, 59), default=5, show_default=True,
              help="Dispatch every N minutes.")
def install(dsn: str | None, every: int) -> None:
    """Schedule dispatch every N minutes and the sweep daily at 00:00 UTC (idempotent).

    \b
    Example:
      pgdrip cron install --dsn postgresql://localhost/app
    """
    schedules = {"pgdrip-dispatch": f"*/{every} * * * *" if every > 1 else "* * * * *",
                 "pgdrip-sweep": "0 0 * * *"}
    with open_db(dsn) as conn:
        _require_pg_cron(conn)
        with conn.transaction():
            for name, command in JOBS.items():
                conn.execute(queries.CRON_UNSCHEDULE, {"name": name})
                conn.execute(queries.CRON_SCHEDULE, {"name": name, "schedule": schedules[name], "command": command})
        emit(conn.execute(queries.CRON_JOBS).fetchall(), ["jobname", "schedule", "command"], False)


@cron.command("uninstall")
@dsn_option
def uninstall(dsn: str | None) -> None:
    """Remove pgdrip's pg_cron jobs for this database.

    \b
    Example:
      pgdrip cron uninstall
    """
    with open_db(dsn) as conn:
        _require_pg_cron(conn)
        with conn.transaction():
            for name in JOBS:
                conn.execute(queries.CRON_UNSCHEDULE, {"name": name})
    click.echo("removed pgdrip's pg_cron jobs")


def register(main: click.Group) -> None:
    main.add_command(cron)
