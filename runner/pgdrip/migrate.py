"""`pgdrip migrate`: yoyo for structure, then always re-apply sql/functions and sql/triggers."""

import logging
from urllib.parse import quote, urlencode

import psycopg
import sqlparse
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from . import queries
from .errors import PgdripError
from .paths import MIGRATIONS_DIR, code_files

log = logging.getLogger("pgdrip.migrate")


def yoyo_url(dsn: str) -> str:
    """A yoyo URL for any libpq DSN; connection details travel as query arguments."""
    params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    dbname = params.pop("dbname", "")
    params["schema"] = "drip"
    return f"postgresql+psycopg:///{quote(dbname)}?{urlencode(params)}"


def migrate(dsn: str) -> tuple[int, int]:
    """Bring the drip schema up to date. Returns (migrations applied, code files applied)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        require_utf8(conn)
        # Two migrates at once: the second waits here, then finds nothing pending.
        conn.execute(queries.MIGRATE_LOCK)
        try:
            conn.execute(queries.CREATE_SCHEMA)
            backend = get_backend(yoyo_url(dsn))
            try:
                with backend.lock():
                    pending = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
                    backend.apply_migrations(pending)
            finally:
                backend.connection.close()
            files = code_files()
            citus = conn.execute(queries.HAS_CITUS).fetchone()[0]
            _apply_code(conn, files, citus)
            if citus:
                # lay the schema out on Citus, then create the triggers again on the laid-out
                # tables (and the functions on every node); the second call drops the triggers
                # whose work foreign keys do there
                with conn.transaction():
                    conn.execute(queries.DISTRIBUTE)
                _apply_code(conn, files, citus)
                with conn.transaction():
                    conn.execute(queries.DISTRIBUTE)
            log.info("migrated: %d migration(s) applied, %d code file(s) re-applied", len(pending), len(files))
            return len(pending), len(files)
        finally:
            conn.execute(queries.MIGRATE_UNLOCK)


def require_utf8(conn: psycopg.Connection) -> None:
    """Refuse a database whose encoding is not UTF8, in one line that says how to make one."""
    # in SQL_ASCII psycopg returns text as bytes
    name, encoding = (v.decode(errors="replace") if isinstance(v, bytes) else v
                      for v in conn.execute(queries.DATABASE_ENCODING).fetchone())
    if encoding != "UTF8":
        raise PgdripError(f"database {name} has encoding {encoding}, pgdrip needs UTF8; create one with: "
                          f"create database {name}_utf8 encoding 'UTF8' locale 'C.UTF-8' template template0")


def _apply_code(conn: psycopg.Connection, files: list, citus: bool) -> None:
    """Apply the code files in one transaction. On Citus one statement at a time: Citus sends
    some commands to the workers as the query text they came in, which must hold just one."""
    with conn.transaction():
        if citus:
            conn.execute(queries.CITUS_DDL_SETTINGS)
        for path in files:
            text = path.read_text()
            if not citus:
                conn.execute(text)
                continue
            for statement in sqlparse.split(text):
                if sqlparse.format(statement, strip_comments=True).strip():
                    conn.execute(statement)
