"""Which database: --dsn, else PGDRIP_DSN, else the embedded server (started and migrated)."""

import logging
import os
import sys
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import dict_row

from . import queries
from .errors import PgdripError

if TYPE_CHECKING:
    from .settings import RunSettings

log = logging.getLogger("pgdrip")


def resolve_dsn(dsn: str | None, *, announce: bool = True) -> str:
    dsn = dsn or os.environ.get("PGDRIP_DSN")
    if dsn:
        return dsn
    from .embedded import pgdrip_home, start_embedded
    from .migrate import migrate

    try:
        dsn = start_embedded()
    except Exception as exc:  # the embedded server is a convenience; say plainly what failed
        raise PgdripError(f"cannot start the embedded PostgreSQL in {pgdrip_home()}: {exc}") from None
    migrate(dsn)
    if announce:
        print(f"pgdrip: using the embedded PostgreSQL; applications can connect with: {dsn}", file=sys.stderr)
    return dsn


def connect(dsn: str, *, autocommit: bool = True) -> psycopg.Connection:
    try:
        return psycopg.connect(dsn, autocommit=autocommit, row_factory=dict_row,
                               application_name="pgdrip", connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise PgdripError(f"cannot connect to the database: {first_line(str(exc))}") from None


def require_schema(conn: psycopg.Connection) -> None:
    if not conn.execute(queries.SCHEMA_READY).fetchone()["ready"]:
        raise PgdripError("the drip schema is not installed in this database; run: pgdrip migrate")


def publish_mail_settings(conn: psycopg.Connection, settings: "RunSettings") -> None:
    """The database renders branding and the unsubscribe link into every message: give it this
    runner's settings (it refuses bad ones, naming the setting, before anything is sent)."""
    from psycopg.types.json import Jsonb

    conn.execute(queries.PUBLISH_MAIL_SETTINGS, {"settings": Jsonb(settings.mail_settings()),
                                                 "runner": settings.runner_name})


def publish_return_path(conn: psycopg.Connection, public_url: str | None, secret: str | None,
                        old_secrets: list[str] | None = None) -> None:
    """`pgdrip serve` shares its PGDRIP_PUBLIC_URL, PGDRIP_SECRET and PGDRIP_OLD_SECRETS with the
    database, which makes and checks every token (the runner publishes the same, with the rest of
    its settings). Only what it was given: nothing else changes."""
    from psycopg.types.json import Jsonb

    given: dict[str, object] = {}
    if public_url:
        given.update(public_url=public_url, secret=secret or "")
    if old_secrets is not None:
        given["old_secrets"] = old_secrets
    if given:
        conn.execute(queries.PUBLISH_RETURN_PATH, {"settings": Jsonb(given), "by": "pgdrip serve"})


def first_line(text: str) -> str:
    """A multi-line libpq message as one line ("connection failed: ...; Is the server running...")."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())
