"""`pgdrip variants ...` and `pgdrip promote`: A/B tests of a step's content (behaviour 25)."""

from pathlib import Path

import click

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db
from ..errors import PgdripError


@click.group()
def variants() -> None:
    """Variants of a step: each contact gets the step's own content or one variant, in
    proportion to the weights, always the same for the same contact and step.

    \b
    Examples:
      pgdrip variants add 12 B --subject "Last chance, {{FirstName|friend}}" --html-file b.html
      pgdrip report --variants
      pgdrip promote 5
    """


@variants.command("list")
@dsn_option
@json_option
@click.option("--step", "step_id", type=click.IntRange(min=1), help="Only this step's.")
@click.option("--sequence", "sequence_id", type=click.IntRange(min=1), help="Only this sequence's.")
def variants_list(dsn: str | None, as_json: bool, step_id: int | None, sequence_id: int | None) -> None:
    """Every variant, with its step, weight and whether it is active."""
    with open_db(dsn) as conn:
        rows = conn.execute(queries.VARIANTS, {"step": step_id, "sequence": sequence_id}).fetchall()
    emit(rows, ["id", "sequence_id", "step_order", "name", "weight", "active", "subject"]
         + (["step_id", "control_weight"] if as_json else []), as_json)


@variants.command("add")
@dsn_option
@click.argument("step_id", type=click.IntRange(min=1))
@click.argument("name")
@click.option("--subject", required=True, help="The variant's subject (merge tags as in steps).")
@click.option("--html", "html_body", help="The variant's HTML body.")
@click.option("--html-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the HTML body from a file.")
@click.option("--weight", type=click.IntRange(min=1), default=1, show_default=True)
def variants_add(dsn: str | None, step_id: int, name: str, subject: str, html_body: str | None,
                 html_file: Path | None, weight: int) -> None:
    """Add a variant NAME to STEP_ID (checked as a step is)."""
    if (html_body is None) == (html_file is None):
        raise click.UsageError("give the body with --html or --html-file (one of them)")
    if html_file is not None:
        try:
            html_body = html_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PgdripError(f"{html_file} is not UTF-8 text") from None
    with open_db(dsn) as conn:
        variant_id = conn.execute(queries.ADD_VARIANT, {"step": step_id, "name": name, "subject": subject,
                                                        "html_body": html_body, "weight": weight}).fetchone()["id"]
    click.echo(f"variant {variant_id} added")


def _set_active(dsn: str | None, variant_id: int, active: bool) -> None:
    with open_db(dsn) as conn:
        if conn.execute(queries.SET_VARIANT_ACTIVE, {"id": variant_id, "active": active}).fetchone() is None:
            raise PgdripError(f"no variant with id {variant_id}")
    click.echo(f"variant {variant_id} {'activated' if active else 'paused'}")


@variants.command("pause")
@dsn_option
@click.argument("variant_id", type=click.IntRange(min=1))
def variants_pause(dsn: str | None, variant_id: int) -> None:
    """Stop sending a variant (its counts stay in the report)."""
    _set_active(dsn, variant_id, False)


@variants.command("activate")
@dsn_option
@click.argument("variant_id", type=click.IntRange(min=1))
def variants_activate(dsn: str | None, variant_id: int) -> None:
    """Send a paused variant again."""
    _set_active(dsn, variant_id, True)


@click.command()
@dsn_option
@click.argument("variant_id", type=click.IntRange(min=1))
def promote(dsn: str | None, variant_id: int) -> None:
    """Make a variant its step's content and end the test (every variant of the step paused)."""
    with open_db(dsn) as conn:
        step_id = conn.execute(queries.PROMOTE_VARIANT, {"id": variant_id}).fetchone()["step_id"]
    click.echo(f"variant {variant_id} is now step {step_id}'s content")


def register(main: click.Group) -> None:
    for command in (variants, promote):
        main.add_command(command)
