"""`pgdrip topics ...`, `pgdrip caps ...`: topics, topic unsubscribes and frequency caps
(behaviours 23 and 24)."""

import click
import psycopg

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db, resolve_contact
from ..errors import PgdripError


def _topic(conn: psycopg.Connection, key: str) -> int:
    row = conn.execute(queries.TOPIC_ID, {"key": key.strip()}).fetchone()
    if row is None:
        raise PgdripError(f"no topic with id or name {key!r}")
    return row["id"]


@click.group()
def topics() -> None:
    """What marketing mail is about, so a contact can leave one topic and keep the rest.

    \b
    Examples:
      pgdrip topics add "Product tips" --description "A tip a week"
      pgdrip topics unsubscribe ada@example.com "Product tips"
    """


@topics.command("list")
@dsn_option
@json_option
def topics_list(dsn: str | None, as_json: bool) -> None:
    """Every topic, with how many sequences use it and how many contacts left it."""
    with open_db(dsn) as conn:
        rows = conn.execute(queries.TOPICS).fetchall()
    emit(rows, ["id", "name", "sequences", "unsubscribed", "description"], as_json)


@topics.command("add")
@dsn_option
@click.argument("name")
@click.option("--description", help="One or two sentences; recipients read it on the preference page.")
def topics_add(dsn: str | None, name: str, description: str | None) -> None:
    """Create a topic."""
    with open_db(dsn) as conn:
        topic_id = conn.execute(queries.ADD_TOPIC, {"name": name, "description": description}).fetchone()["id"]
    click.echo(f"topic {topic_id} created")


@topics.command("remove")
@dsn_option
@click.argument("topic")
def topics_remove(dsn: str | None, topic: str) -> None:
    """Delete a topic no sequence uses (who left it is forgotten)."""
    with open_db(dsn) as conn:
        conn.execute(queries.REMOVE_TOPIC, {"id": _topic(conn, topic)})
    click.echo(f"topic {topic} removed")


@topics.command("unsubscribe")
@dsn_option
@click.argument("contact", metavar="CONTACT")
@click.argument("topic")
def topics_unsubscribe(dsn: str | None, contact: str, topic: str) -> None:
    """Take a contact (id or email) off a topic: its marketing enrollments and queued mail are cancelled."""
    with open_db(dsn) as conn:
        done = conn.execute(queries.TOPIC_UNSUBSCRIBE, {"contact": resolve_contact(conn, contact),
                                                        "topic": _topic(conn, topic)}).fetchone()
    click.echo("unsubscribed" if done else "was already unsubscribed from that topic")


@topics.command("resubscribe")
@dsn_option
@click.argument("contact", metavar="CONTACT")
@click.argument("topic")
def topics_resubscribe(dsn: str | None, contact: str, topic: str) -> None:
    """Put a contact back on a topic (new events enroll it again; cancelled mail stays cancelled)."""
    with open_db(dsn) as conn:
        done = conn.execute(queries.TOPIC_RESUBSCRIBE, {"contact": resolve_contact(conn, contact),
                                                        "topic": _topic(conn, topic)}).fetchone()
    click.echo("resubscribed" if done else "was not unsubscribed from that topic")


@click.group()
def caps() -> None:
    """Frequency caps: at most N marketing messages per contact in a period (receipts never count).

    \b
    Examples:
      pgdrip caps add 1 "1 day"
      pgdrip caps add 3 "7 days"
    """


@caps.command("list")
@dsn_option
@json_option
def caps_list(dsn: str | None, as_json: bool) -> None:
    """Every cap."""
    with open_db(dsn) as conn:
        rows = conn.execute(queries.CAPS).fetchall()
    emit(rows, ["id", "max_messages", "per"], as_json)


@caps.command("add")
@dsn_option
@click.argument("max_messages", type=int)
@click.argument("per")
def caps_add(dsn: str | None, max_messages: int, per: str) -> None:
    """Add a cap: at most MAX_MESSAGES marketing messages per contact in PER ("1 day", "7 days")."""
    with open_db(dsn) as conn:
        cap_id = conn.execute(queries.ADD_CAP, {"max": max_messages, "per": per}).fetchone()["id"]
    click.echo(f"cap {cap_id} added")


@caps.command("remove")
@dsn_option
@click.argument("cap_id", type=click.IntRange(min=1))
def caps_remove(dsn: str | None, cap_id: int) -> None:
    """Remove a cap."""
    with open_db(dsn) as conn:
        if conn.execute(queries.REMOVE_CAP, {"id": cap_id}).fetchone() is None:
            raise PgdripError(f"no cap with id {cap_id}")
    click.echo(f"cap {cap_id} removed")


def register(main: click.Group) -> None:
    for command in (topics, caps):
        main.add_command(command)
