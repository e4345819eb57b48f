"""The `pgdrip` command line (click). Every command is thin over the SQL API."""

import signal
import sys
from datetime import datetime

import click

from . import __version__, queries
from .cli_common import PgdripGroup, dsn_option, open_db, resolve_contact, setup_logging
from .connect import connect, publish_mail_settings, publish_return_path, require_schema, resolve_dsn
from .errors import PgdripError


@click.group(cls=PgdripGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pgdrip")
def main() -> None:
    """pgdrip: drip email campaigns that live inside PostgreSQL.

    \b
    Example:
      pgdrip migrate --dsn postgresql://localhost/app
      pgdrip run --smtp smtp://localhost:25
    """


@main.command()
@dsn_option
def migrate(dsn: str | None) -> None:
    """Create or upgrade the drip schema; safe to run any number of times. The database must be
    UTF8 (a SQL_ASCII one is refused, with how to create a UTF8 one).

    \b
    Example:
      pgdrip migrate --dsn postgresql://localhost/app
    """
    from .migrate import migrate as do_migrate

    dsn = resolve_dsn(dsn)
    applied, files = do_migrate(dsn)
    click.echo(f"migrated: {applied} migration(s) applied, {files} function/trigger file(s) re-applied")


@main.command()
@dsn_option
@click.option("--smtp", "smtp_url", envvar="PGDRIP_SMTP_URL", metavar="URL",
              help="smtp://[user:pass@]host[:port], smtps://..., ?starttls=true. Default: .eml files.")
@click.option("--once", is_flag=True, help="Sweep (if due), dispatch, drain until nothing is sendable, exit.")
@click.option("--drain-only", is_flag=True, help="Only drain the outbox (pg_cron dispatches and sweeps).")
@click.option("--poll-seconds", type=int,
              help="Seconds between dispatches without a wake-up [default: 300; 5 on Citus, where nothing wakes "
                   "the runner when an application's write enrolls someone].")
@click.option("--workers", type=int, help="Parallel sender connections [default: 4].")
@click.option("--batch-size", type=int, help="Outbox rows leased per claim [default: 50].")
@click.option("--lease-seconds", type=int, help="Lease on claimed rows [default: 300].")
@click.option("--max-rate", type=float, metavar="N",
              help="Messages per second for all runners of the database together [default: $PGDRIP_MAX_RATE, "
                   "else unlimited].")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]))
def run(dsn: str | None, smtp_url: str | None, once: bool, drain_only: bool, poll_seconds: int | None,
        workers: int | None, batch_size: int | None, lease_seconds: int | None, max_rate: float | None,
        log_level: str, log_format: str) -> None:
    """Run the dispatcher, the daily sweep and the outbox drain.

    \b
    Example:
      pgdrip run --dsn postgresql://localhost/app --smtp smtp://mail.example.com:587?starttls=true
      pgdrip run --once        # one pass, then exit
    """
    from .daemon import Runner
    from .senders import make_sender_factory
    from .settings import RunSettings

    setup_logging(log_level, log_format)
    settings = RunSettings.from_env(smtp_url=smtp_url, poll_seconds=poll_seconds, workers=workers,
                                    batch_size=batch_size, lease_seconds=lease_seconds, max_rate=max_rate)
    factory, target = make_sender_factory(settings.smtp_url, settings.mail_dir)
    dsn = resolve_dsn(dsn)
    with connect(dsn) as conn:
        require_schema(conn)
        publish_mail_settings(conn, settings)
    click.echo(f"pgdrip: sending to {target}", err=True)
    runner = Runner(dsn, settings, factory, drain_only=drain_only)
    if once:
        stats = runner.run_once()
        click.echo(f"sent {stats.sent}, to retry {stats.retried}, failed {stats.failed}")
        return
    runner.run_forever()


@main.command()
@dsn_option
@click.option("--host", help="Address to listen on [default: $PGDRIP_SERVE_HOST, else 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [default: $PGDRIP_SERVE_PORT, else 8080].")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", default="text", show_default=True, type=click.Choice(["text", "json"]))
def serve(dsn: str | None, host: str | None, port: int | None, log_level: str, log_format: str) -> None:
    """Serve the return path (tracked links, one-click unsubscribe, /healthz) and the admin pages.

    PGDRIP_PUBLIC_URL and PGDRIP_SECRET (16+ characters) are the address recipients reach this
    server at and the key of its links; the runner renders links with the same two. Put a TLS
    reverse proxy in front and list it in PGDRIP_TRUSTED_PROXIES. The admin pages are on only
    with PGDRIP_ADMIN_PASSWORD (and PGDRIP_ADMIN_USER, default admin). SIGTERM stops it gracefully.

    \b
    Example:
      PGDRIP_PUBLIC_URL=https://mail.example.com PGDRIP_SECRET=... \\
      PGDRIP_ADMIN_PASSWORD=... pgdrip serve --port 8080
    """
    import uvicorn

    from .web.app import create_app
    from .web.config import ServeSettings

    setup_logging(log_level, log_format)
    dsn = resolve_dsn(dsn)
    settings = ServeSettings.from_env(dsn, host, port)
    with connect(dsn) as conn:
        require_schema(conn)
        publish_return_path(conn, settings.public_url, settings.secret, settings.old_secrets)
        row = conn.execute(queries.RETURN_PATH_READY).fetchone()
        ready, settings.stored_public_url = row["ready"], row["public_url"]
    click.echo(f"pgdrip serve: listening on http://{settings.host}:{settings.port}"
               + ("" if ready else "; no PGDRIP_PUBLIC_URL and PGDRIP_SECRET yet, so links are not tracked")
               + f"; admin pages {'at /admin/' if settings.admin_password else 'off (set PGDRIP_ADMIN_PASSWORD)'}",
               err=True)
    # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again under the handler it
    # found: with this one, a graceful stop ends the process with status 0, as `pgdrip run` does
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: None)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False,
                proxy_headers=bool(settings.trusted_proxies),
                forwarded_allow_ips=",".join(settings.trusted_proxies) or None, server_header=False,
                timeout_graceful_shutdown=10)


@main.command()
@dsn_option
@click.option("--now", "at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
              help="Dispatch as if it were this time (UTC) [default: now].")
def dispatch(dsn: str | None, at: datetime | None) -> None:
    """Queue the next step of every due enrollment (CALL drip.dispatch_due).

    \b
    Example:
      pgdrip dispatch
    """
    with open_db(dsn) as conn:
        require_schema(conn)
        queued = conn.execute(queries.DISPATCH_AT, {"now": f"{at.isoformat()}+00:00" if at else None}
                              ).fetchone()["queued"]
    click.echo(f"dispatched: {queued} message(s) queued")


@main.command()
@dsn_option
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Day to sweep [default: today, UTC].")
def sweep(dsn: str | None, day: datetime | None) -> None:
    """Enroll today's birthdays and sign-up anniversaries (CALL drip.anniversary_sweep).

    \b
    Example:
      pgdrip sweep --date 2027-02-28
    """
    with open_db(dsn) as conn:
        require_schema(conn)
        conn.execute(queries.SWEEP_ON, {"day": day.date() if day else None})
    click.echo(f"swept {(day.date() if day else 'today')}")


@main.command()
@dsn_option
@click.argument("enrollment_ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--sequence", "sequence_id", type=click.IntRange(min=1), help="With --contact: that pair's enrollment.")
@click.option("--contact", "contact", metavar="ID|EMAIL", help="With --sequence.")
def cancel(dsn: str | None, enrollment_ids: tuple[int, ...], sequence_id: int | None, contact: str | None) -> None:
    """Cancel enrollments (and their queued mail). All or nothing: an unknown id cancels none.

    \b
    Examples:
      pgdrip cancel 17 18
      pgdrip cancel --sequence 3 --contact ada@example.com
    """
    if bool(sequence_id) != bool(contact):
        raise click.UsageError("--sequence and --contact go together")
    if not enrollment_ids and not sequence_id:
        raise click.UsageError("give enrollment ids, or --sequence and --contact")
    with open_db(dsn) as conn, conn.transaction():
        ids = list(enrollment_ids)
        if sequence_id:
            contact_id = resolve_contact(conn, contact or "")
            row = conn.execute(queries.ACTIVE_ENROLLMENT, {"sequence": sequence_id, "contact": contact_id}).fetchone()
            if row is None:
                raise PgdripError(f"contact {contact} has no active enrollment in sequence {sequence_id}")
            ids.append(row["id"])
        results = [conn.execute(queries.CANCEL, {"id": i}).fetchone()["was_active"] for i in ids]
    done = sum(results)
    click.echo(f"cancelled {done} enrollment(s)" + (f"; {len(ids) - done} were not active" if done < len(ids) else ""))


def _register() -> None:
    from .commands import (
        apply,
        audience,
        campaigns,
        cron,
        demo,
        experiments,
        journeys,
        mail_settings,
        operate,
        sequences,
    )

    for module in (apply, audience, campaigns, cron, demo, experiments, journeys, mail_settings, operate, sequences):
        module.register(main)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

