"""Errors the CLI turns into one readable line."""

import re

import psycopg


class PgdripError(Exception):
    """A problem the user can fix: shown as one line, exit code 1."""


def named_field(diag: psycopg.errors.Diagnostic) -> str:
    """The field a database error names: its column, else the "field: X" of its detail (every
    pgdrip error carries both; Citus passes on an error raised on a worker without its column)."""
    named = re.search(r"\bfield: ([a-z_]+)", diag.message_detail or "")
    return diag.column_name or (named.group(1) if named else "")


def not_utf8(exc: UnicodeDecodeError) -> tuple[int, str]:
    """Where a file stops being UTF-8: its line, and what was found there."""
    line = exc.object[:exc.start].count(b"\n") + 1
    return line, f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} cannot start or continue a character"
