"""`pgdrip enrollments`, `preview`, `status`, `outbox list|retry`: day-to-day operations."""

import json

import click

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db, resolve_contact


@click.command()
@dsn_option
@json_option
@click.option("--sequence", "sequence_id", type=click.IntRange(min=1), help="Only this sequence.")
@click.option("--contact", metavar="ID|EMAIL", help="Only this contact.")
@click.option("--status", type=click.Choice(["active", "completed", "cancelled", "exited"]))
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
def enrollments(dsn: str | None, as_json: bool, sequence_id: int | None, contact: str | None,
                status: str | None, limit: int) -> None:
    """Who is enrolled where: current step and next due time.

    \b
    Example:
      pgdrip enrollments --sequence 3 --status active
    """
    with open_db(dsn) as conn:
        contact_id = resolve_contact(conn, contact) if contact else None
        rows = conn.execute(queries.ENROLLMENTS, {"sequence": sequence_id, "contact": contact_id,
                                                  "status": status, "limit": limit}).fetchall()
    emit(rows, ["id", "sequence", "contact_email", "status", "last_step_order_sent", "next_step_due_at"]
         + (["sequence_id", "contact_id"] if as_json else []), as_json)


@click.command()
@dsn_option
@json_option
@click.argument("step_id", type=click.IntRange(min=1))
@click.option("--contact", required=True, metavar="ID|EMAIL", help="Render for this contact.")
def preview(dsn: str | None, as_json: bool, step_id: int, contact: str) -> None:
    """Show a step's subject, HTML and text parts exactly as the database renders them for a contact.

    \b
    Example:
      pgdrip preview 12 --contact ada@example.com
    """
    with open_db(dsn) as conn:
        row = conn.execute(queries.PREVIEW, {"step": step_id, "contact": resolve_contact(conn, contact)}).fetchone()
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    head = f"To: {row['to_address']}\nSubject: {row['subject']}"
    if row["list_unsubscribe"]:
        head += f"\nList-Unsubscribe: {row['list_unsubscribe']}"
    click.echo(f"{head}\n\n{row['html_body']}\n\n--- text part ---\n{row['text_body']}", nl=False)


@click.command()
@dsn_option
@json_option
def status(dsn: str | None, as_json: bool) -> None:
    """Health at a glance: due now, queued, failed, bounced, oldest queued age, last sweep, runners.

    \b
    Example:
      pgdrip status --json
    """
    with open_db(dsn) as conn:
        row = conn.execute(queries.STATUS).fetchone()
    if as_json:
        click.echo(json.dumps(row, default=str, indent=2))
        return
    age = row["oldest_queued_age"]
    click.echo(f"due now:       {row['due_now']}")
    click.echo(f"queued:        {row['queued']}")
    click.echo(f"failed:        {row['failed']}")
    click.echo(f"bounced:       {row['bounced']} contact(s)")
    click.echo(f"oldest queued: {int(age.total_seconds())}s ago" if age is not None else "oldest queued: -")
    click.echo(f"last sweep:    {row['last_sweep'] or 'never'}")
    click.echo(f"runners:       {row['runners_recent']} seen in the last 5 minutes")


@click.group()
def outbox() -> None:
    """Look at queued, sent and failed mail; queue failed mail again.

    \b
    Example:
      pgdrip outbox list --status failed
    """


@outbox.command("list")
@dsn_option
@json_option
@click.option("--status", type=click.Choice(["queued", "sending", "sent", "failed", "cancelled"]))
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
def outbox_list(dsn: str | None, as_json: bool, status: str | None, limit: int) -> None:
    """The newest outbox rows.

    \b
    Example:
      pgdrip outbox list --status failed --json
    """
    with open_db(dsn) as conn:
        rows = conn.execute(queries.OUTBOX_LIST, {"status": status, "limit": limit}).fetchall()
    columns = ["id", "to_address", "subject", "status", "attempts", "created_at", "last_error"]
    emit(rows, columns + (["enrollment_id", "step_id", "sent_at", "message_id"] if as_json else []), as_json)


@outbox.command("retry")
@dsn_option
@click.argument("ids", nargs=-1, type=click.IntRange(min=1))
@click.option("--all-failed", is_flag=True, help="Queue every failed row again.")
def outbox_retry(dsn: str | None, ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed rows again with fresh attempts (never for unsubscribed or bounced contacts).

    \b
    Examples:
      pgdrip outbox retry 41 42
      pgdrip outbox retry --all-failed
    """
    if bool(ids) == all_failed:
        raise click.UsageError("give outbox ids or --all-failed (not both)")
    with open_db(dsn) as conn:
        n = conn.execute(queries.RETRY, {"ids": list(ids) if ids else None}).fetchone()["n"]
    skipped = len(set(ids)) - n if ids else 0  # drip.retry_outbox refused any id that was not a failed row
    click.echo(f"queued {n} message(s) again"
               + (f"; {skipped} left failed: the contact unsubscribed or bounced" if skipped else ""))


def register(main: click.Group) -> None:
    for command in (enrollments, preview, status, outbox):
        main.add_command(command)
