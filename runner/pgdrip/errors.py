"""Errors the CLI turns into one readable line."""


class PgdripError(Exception):
    """A problem the user can fix: shown as one line, exit code 1."""
