"""`pgdrip event`, `pgdrip enroll-matching`: journeys from the command line (behaviours 17 and 21)."""

import json

import click
from psycopg.types.json import Jsonb

from .. import queries
from ..cli_common import dsn_option, open_db, resolve_contact


def _json_object(ctx: click.Context, param: click.Parameter, value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object, such as '{\"cart_id\": \"c-17\"}'")
    return data


@click.command()
@dsn_option
@click.argument("contact", metavar="CONTACT")
@click.argument("name")
@click.option("--key", help="Ties related events together (a cart id): one enrollment per key.")
@click.option("--data", "payload", callback=_json_object, metavar="JSON",
              help="The payload, a JSON object; {{event.NAME}} merge tags read it.")
def event(dsn: str | None, contact: str, name: str, key: str | None, payload: dict | None) -> None:
    """Record that something happened to a contact (id or email): a row in drip.events.

    It enrolls into event sequences of that name, ends waits and reaches goals, as an
    application's INSERT does.

    \b
    Example:
      pgdrip event ada@example.com cart_abandoned --key c-17 --data '{"total": 42.5}'
    """
    with open_db(dsn) as conn, conn.transaction():
        contact_id = resolve_contact(conn, contact)
        event_id = conn.execute(queries.ADD_EVENT, {"contact": contact_id, "name": name, "key": key,
                                                    "payload": Jsonb(payload or {})}).fetchone()["id"]
        enrolled = conn.execute(queries.EVENT_ENROLLMENTS, {"contact": contact_id, "id": event_id}).fetchone()["n"]
    click.echo(f"event {event_id} recorded for contact {contact_id}; {enrolled} new enrollment(s)")


@click.command("enroll-matching")
@dsn_option
@click.argument("sequence_id", type=click.IntRange(min=1))
def enroll_matching(dsn: str | None, sequence_id: int) -> None:
    """Enroll into a segment sequence everyone who matches its entry_condition now.

    A segment enrolls contacts as writes make them match; those who already matched when it
    was created or activated are enrolled only by this command (drip.enroll_matching).

    \b
    Example:
      pgdrip enroll-matching 7
    """
    with open_db(dsn) as conn:
        n = conn.execute(queries.ENROLL_MATCHING, {"id": sequence_id}).fetchone()["n"]
    click.echo(f"enrolled {n} contact(s) into sequence {sequence_id}")


def register(main: click.Group) -> None:
    for command in (event, enroll_matching):
        main.add_command(command)
