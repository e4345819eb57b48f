"""`pgdrip mail-settings`: what drip.mail_settings holds (never a secret), and clearing a setting.

A runner or `pgdrip serve` publishes only the settings it was given, so a setting stays until it
is replaced or cleared here (drip.publish_mail_settings with JSON null)."""

import click
from psycopg.types.json import Jsonb

from .. import queries
from ..cli_common import dsn_option, emit, json_option, open_db
from ..connect import require_schema

# what --clear NAME sends: the return path and the unsubscribe URL are cleared with their secrets
CLEARABLE = {
    "brand_header": {"brand_header": None},
    "brand_footer": {"brand_footer": None},
    "unsubscribe_url": {"unsubscribe_url": None, "unsubscribe_secret": None},
    "unsubscribe_mailto": {"unsubscribe_mailto": None},
    "public_url": {"public_url": None, "secret": None},
    "from_address": {"from_address": None},
}


@click.command("mail-settings")
@dsn_option
@json_option
@click.option("--clear", "clear", multiple=True, type=click.Choice(sorted(CLEARABLE)),
              help="Clear this setting (repeatable). public_url also stops tracking new mail; the links already "
                   "sent keep working.")
@click.option("--forget-old-secrets", is_flag=True,
              help="Stop every older PGDRIP_SECRET from verifying links (links it signed answer 404).")
def mail_settings(dsn: str | None, as_json: bool, clear: tuple[str, ...], forget_old_secrets: bool) -> None:
    """Show the settings every message is rendered with, or clear one.

    \b
    Examples:
      pgdrip mail-settings
      pgdrip mail-settings --clear brand_footer
    """
    with open_db(dsn) as conn:
        require_schema(conn)
        if clear:
            given: dict = {}
            for name in clear:
                given.update(CLEARABLE[name])
            conn.execute(queries.PUBLISH_MAIL_SETTINGS, {"settings": Jsonb(given), "runner": "pgdrip mail-settings"})
        if forget_old_secrets:
            forgot = conn.execute(queries.FORGET_LINK_SECRETS).fetchone()["n"]
            click.echo(f"forgot {forgot} older secret(s)", err=True)
        row = conn.execute(queries.MAIL_SETTINGS).fetchone()
    row = {**row, "brand_header": len(row["brand_header"]), "brand_footer": len(row["brand_footer"]),
           "link_keys": row["link_keys"] or 0}
    if as_json:
        emit([row], list(row), True)
        return
    for name, value in row.items():
        shown = "-" if value is None else value
        if name in ("brand_header", "brand_footer"):
            shown = f"{value} characters"
        elif name == "link_keys":
            shown = f"{value} key(s): the one that signs, and {max(value - 1, 0)} older that still verify"
        click.echo(f"{name}: {shown}")


def register(main: click.Group) -> None:
    main.add_command(mail_settings)
