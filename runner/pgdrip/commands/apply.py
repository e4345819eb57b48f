"""`pgdrip apply FILE.toml`: sequences as code, so campaigns can live in git."""

from pathlib import Path

import click

from .. import sequences_file
from ..cli_common import dsn_option, open_db


class _DryRun(Exception):
    pass


@click.command("apply")
@dsn_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change and change nothing.")
def apply_command(dsn: str | None, path: Path, dry_run: bool) -> None:
    """Create or update sequences and their steps from a TOML file (idempotent).

    Sequences are matched by name; steps by their key, else by unchanged subject and body, else by
    position (drip.save_steps: nobody in flight is sent a step again). Steps missing from the file
    are deactivated, never deleted. The whole file applies in one transaction, or not at all.

    \b
    Example file:
      [[sequence]]
      name = "Welcome"
      trigger_type = "tag_added"
      trigger_value = "welcome"
      [[sequence.step]]
      delay_hours = 0
      subject = "Welcome, {{FirstName|there}}!"
      html_body = "<p>Glad you are here.</p>"

    \b
    Example:
      pgdrip apply campaigns.toml --dry-run
    """
    specs, lines = sequences_file.load(path)
    with open_db(dsn) as conn:
        changes: list[str] = []
        try:
            with conn.transaction():
                changes = sequences_file.apply(conn, path, specs, lines)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
    for line in changes:
        click.echo(line)
    if not changes:
        click.echo("no changes")
    elif dry_run:
        click.echo(f"dry run: {len(changes)} change(s) not applied")
    else:
        click.echo(f"applied {len(changes)} change(s)")


def register(main: click.Group) -> None:
    main.add_command(apply_command)
