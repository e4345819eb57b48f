"""`pgdrip sequences ...` and `pgdrip steps ...`: the sequence list and editor, from the terminal."""

import click

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db
from ..errors import PgdripError


def trigger_badge(row: dict) -> str:
    value = row["trigger_value"]
    return f"{row['trigger_type']}:{value}" if value is not None else f"{row['trigger_type']}:any"


@click.group()
def sequences() -> None:
    """List, show, create and switch sequences.

    \b
    Example:
      pgdrip sequences list --sort enrollments
    """


@sequences.command("list")
@dsn_option
@json_option
@click.option("--sort", type=click.Choice(sorted(queries.SEQUENCE_SORTS)), default="id", show_default=True)
def list_sequences(dsn: str | None, as_json: bool, sort: str) -> None:
    """Every sequence: trigger badge, step count, active enrollments, status.

    \b
    Example:
      pgdrip sequences list --json
    """
    with open_db(dsn) as conn:
        rows = conn.execute(queries.SEQUENCES.format(order=queries.SEQUENCE_SORTS[sort])).fetchall()
    for r in rows:
        r["trigger"] = trigger_badge(r)
        r["status"] = "active" if r["active"] else "inactive"
    columns = ["id", "name", "trigger", "step_count", "active_enrollments", "status"]
    emit(rows, columns + (["trigger_type", "trigger_value", "active"] if as_json else []), as_json)


@sequences.command("show")
@dsn_option
@json_option
@click.argument("sequence_id", type=click.IntRange(min=1))
def show_sequence(dsn: str | None, as_json: bool, sequence_id: int) -> None:
    """One sequence and its steps with delays and active flags.

    \b
    Example:
      pgdrip sequences show 3
    """
    with open_db(dsn) as conn:
        seq = conn.execute(queries.SEQUENCE, {"id": sequence_id}).fetchone()
        if seq is None:
            raise PgdripError(f"sequence {sequence_id} does not exist")
        steps = conn.execute(queries.SEQUENCE_STEPS, {"id": sequence_id}).fetchall()
    if as_json:
        import json

        click.echo(json.dumps({**seq, "steps": steps}, default=str, indent=2))
        return
    click.echo(f"#{seq['id']} {seq['name']}  [{trigger_badge(seq)}]  {'active' if seq['active'] else 'inactive'}")
    if seq["description"]:
        click.echo(f"  {seq['description']}")
    for line in settings_lines(seq):
        click.echo(f"  {line}")
    emit(steps, ["id", "step_order", "delay_hours", "subject", "active"], False,
         {"delay_hours": lambda v: f"{v:g}h"})


DAY_NAMES = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


def settings_lines(seq: dict) -> list[str]:
    """The local-time, goal and re-entry settings of a sequence, in words."""
    window = (f"{seq['send_window_start']:%H:%M}-{seq['send_window_end']:%H:%M}" if seq["send_window_start"]
              else "any hour")
    days = ", ".join(DAY_NAMES[d] for d in seq["send_days"]) if seq["send_days"] else "every day"
    goal = (f"{seq['exit_trigger_type']}:{seq['exit_trigger_value'] or 'any'}" if seq["exit_trigger_type"]
            else "none")
    return [f"sends: {window}, {days}, in {seq['time_zone']} (or the contact's zone)",
            f"goal: {goal}; re-entry: {seq['reentry']}"]


@sequences.command("create")
@dsn_option
@click.option("--prefab", required=True, type=click.Choice(["birthday", "welcome", "post_purchase"]))
@click.option("--name", help="Name of the new sequence [default: the prefab's].")
@click.option("--trigger-value", help="Tag name, product id, ... [default: the prefab's].")
def create_sequence(dsn: str | None, prefab: str, name: str | None, trigger_value: str | None) -> None:
    """Create a ready-made sequence.

    \b
    Example:
      pgdrip sequences create --prefab welcome --name "Welcome (trial)" --trigger-value trial
    """
    with open_db(dsn) as conn:
        new_id = conn.execute(queries.PREFAB, {"prefab": prefab, "name": name, "value": trigger_value}
                              ).fetchone()["id"]
    click.echo(f"created sequence {new_id} from the {prefab} prefab")


def _switch(kind: str, statement: str, active: bool):
    @dsn_option
    @click.argument("ids", nargs=-1, required=True, type=click.IntRange(min=1))
    def command(dsn: str | None, ids: tuple[int, ...]) -> None:
        # drip.set_sequence_active / drip.set_step_active: an unknown id is their error (all or nothing)
        with open_db(dsn) as conn, conn.transaction():
            for i in ids:
                conn.execute(statement, {"id": i, "active": active})
        click.echo(f"{'activated' if active else 'deactivated'} {kind} {', '.join(map(str, ids))}")

    verb = "activate" if active else "deactivate"
    command.__doc__ = (f"{verb.capitalize()} one or more {kind}s.\n\n    \b\n    Example:\n"
                       f"      pgdrip {kind}s {verb} 3\n    ")
    return click.command(verb)(command)


sequences.add_command(_switch("sequence", queries.SET_SEQUENCE_ACTIVE, True))
sequences.add_command(_switch("sequence", queries.SET_SEQUENCE_ACTIVE, False))


@click.group()
def steps() -> None:
    """Switch single steps on and off (inactive steps are skipped).

    \b
    Example:
      pgdrip steps deactivate 12
    """


steps.add_command(_switch("step", queries.SET_STEP_ACTIVE, True))
steps.add_command(_switch("step", queries.SET_STEP_ACTIVE, False))


def register(main: click.Group) -> None:
    main.add_command(sequences)
    main.add_command(steps)
