"""`pgdrip forecast`, `report`, `prune`: what will go out, what went out, and retention."""

import re
import sys
from datetime import UTC, datetime, timedelta

import click

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db, resolve_contact
from ..errors import PgdripError

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|hours?|d|days?)\s*$", re.IGNORECASE)


def parse_until(value: str) -> datetime:
    """'24h', '7d', '7 days', or a date / timestamp (UTC unless it says otherwise)."""
    relative = _RELATIVE.match(value)
    if relative:
        amount = float(relative.group(1))
        hours = amount if relative.group(2).lower().startswith("h") else amount * 24
        try:
            return datetime.now(UTC) + timedelta(hours=hours)
        except OverflowError:
            raise PgdripError(f"--until {value.strip()} is too far ahead: the last day is 9999-12-31") from None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PgdripError(f"--until must be like 24h, 7d or 2026-12-01T09:00, not {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def parse_older_than(value: str) -> str:
    """'180d' or '180' (days), or any PostgreSQL interval ('6 months'), which the database checks."""
    days = re.fullmatch(r"\s*(\d+)\s*d?\s*", value)
    return f"{days.group(1)} days" if days else value


@click.command()
@dsn_option
@json_option
@click.option("--until", "until", default="7d", show_default=True, metavar="WHEN",
              help="How far ahead: 24h, 7d, or a date/timestamp (UTC unless it has an offset).")
@click.option("--sequence", "sequence_id", type=click.IntRange(min=1), help="Only this sequence.")
@click.option("--contact", metavar="ID|EMAIL", help="Only this contact.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=500, show_default=True)
def forecast(dsn: str | None, as_json: bool, until: str, sequence_id: int | None, contact: str | None,
             limit: int) -> None:
    """What will be sent until WHEN, if dispatch runs on time (drip.forecast): windows and time
    zones applied, inactive steps and sequences skipped. Times in UTC, and in the recipient's zone.

    \b
    Example:
      pgdrip forecast --until 24h --sequence 3
    """
    with open_db(dsn) as conn:
        contact_id = resolve_contact(conn, contact) if contact else None
        rows = conn.execute(queries.FORECAST, {"until": parse_until(until), "sequence": sequence_id,
                                               "contact": contact_id, "limit": limit}).fetchall()
    emit(rows, ["due_at", "local_time", "sequence", "step_order", "contact_email"]
         + (["enrollment_id", "sequence_id", "step_id", "contact_id", "time_zone"] if as_json else []), as_json)


@click.command()
@dsn_option
@json_option
@click.option("--sequence", "sequence_id", type=click.IntRange(min=1), help="Only this sequence.")
@click.option("--variants", is_flag=True, help="Per arm of each step with variants, with the p-value.")
def report(dsn: str | None, as_json: bool, sequence_id: int | None, variants: bool) -> None:
    """Per step: queued, sent, failed, cancelled, clicks, bot clicks, unique clickers,
    unsubscribes, skipped, held back by a cap, topic unsubscribes and held out (drip.step_report;
    kept by counters, so it stays fast and survives pruning). With --variants, per arm of each
    step that has variants (drip.variant_report): sent, unique clickers, click rate,
    unsubscribes, and the p-value of the arm against the step's own content.

    \b
    Example:
      pgdrip report --sequence 3 --json
      pgdrip report --variants
    """
    with open_db(dsn) as conn:
        if variants:
            rows = conn.execute(queries.VARIANT_REPORT, {"sequence": sequence_id}).fetchall()
            emit(rows, ["sequence_id", "step_order", "variant_id", "name", "sent", "unique_clickers", "click_rate",
                        "unsubscribes", "p_value"] + (["step_id"] if as_json else []), as_json)
            return
        rows = conn.execute(queries.REPORT, {"sequence": sequence_id}).fetchall()
    emit(rows, ["sequence", "step_order", "queued", "sent", "failed", "cancelled", "clicks", "bot_clicks",
                "unique_clickers", "unsubscribes", "skipped", "cap_deferred", "topic_unsubscribes", "held_out"]
         + (["sequence_id", "step_id"] if as_json else []), as_json)


@click.command()
@dsn_option
@click.option("--older-than", "older_than", metavar="AGE",
              help="Delete finished mail and enrollments older than this: 180d, or an interval such as "
                   "'6 months' [default: PGDRIP_RETENTION_DAYS days, else 180d].")
def prune(dsn: str | None, older_than: str | None) -> None:
    """Delete outbox rows in a final state, finished enrollments and recorded clicks older than
    AGE, in committed batches (CALL drip.prune). Reports keep their counts; re-entry and
    anniversary rules are kept.

    \b
    Example:
      pgdrip prune --older-than 90d
    """
    from ..settings import _env_int

    age = parse_older_than(older_than) if older_than else f"{_env_int('PGDRIP_RETENTION_DAYS', 180)} days"
    with open_db(dsn) as conn:
        if sys.stderr.isatty():
            conn.add_notice_handler(lambda diag: click.echo(f"\r{diag.message_primary}   ", err=True, nl=False))
        else:
            conn.add_notice_handler(lambda diag: click.echo(diag.message_primary, err=True))
        conn.execute(queries.PRUNE_OLDER_THAN, {"age": age})
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(f"pruned what was older than {age}")


def register(main: click.Group) -> None:
    for command in (forecast, report, prune):
        main.add_command(command)
