"""What every command shares: one-line errors, --dsn, --json, tables."""

import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from typing import Any

import click
import psycopg

from .connect import connect, first_line, resolve_dsn
from .errors import PgdripError


def db_error_line(exc: psycopg.Error) -> str:
    diag = exc.diag
    text = diag.message_primary or first_line(str(exc)) or type(exc).__name__
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    if diag.message_hint:
        text += f"; hint: {diag.message_hint}"
    return " ".join(text.split())


class PgdripGroup(click.Group):
    """Turns every expected failure into `error: ...` on one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PgdripError as exc:
            _fail(str(exc))
        except psycopg.Error as exc:
            _fail(db_error_line(exc))
        except OSError as exc:
            _fail(f"{exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else ""))


def _fail(message: str) -> None:
    click.echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(1)


dsn_option = click.option(
    "--dsn", envvar="PGDRIP_DSN", metavar="DSN",
    help="PostgreSQL connection string (default: $PGDRIP_DSN, else the embedded server).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@contextmanager
def open_db(dsn: str | None) -> Iterator[psycopg.Connection]:
    conn = connect(resolve_dsn(dsn))
    try:
        yield conn
    finally:
        conn.close()


def emit(rows: Sequence[dict], columns: Sequence[str], as_json: bool,
         formatters: dict[str, Callable[[Any], str]] | None = None) -> None:
    if as_json:
        click.echo(json.dumps([{c: r.get(c) for c in columns} for r in rows], default=str, indent=2))
        return
    if not rows:
        click.echo("(none)")
        return
    formatters = formatters or {}

    def cell(col: str, value: Any) -> str:
        if col in formatters:
            return formatters[col](value)
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, datetime):  # every time with its zone: UTC
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        if isinstance(value, date | time):
            return value.isoformat(timespec="minutes") if isinstance(value, time) else value.isoformat()
        return " ".join(str(value).split())

    table = [[cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in table)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
                           "message": record.getMessage()})


def resolve_contact(conn: psycopg.Connection, key: str) -> int:
    """A contact by id or by email (case-insensitive)."""
    from . import queries

    row = conn.execute(queries.CONTACT_ID, {"key": key.strip()}).fetchone()
    if row is None:
        raise PgdripError(f"no contact with id or email {key!r}")
    return row["id"]
