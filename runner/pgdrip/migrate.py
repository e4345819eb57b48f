"""`pgdrip migrate`: yoyo for structure, then always re-apply sql/functions and sql/triggers."""

import logging
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from . import queries
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
            with conn.transaction():
                for path in files:
                    conn.execute(path.read_text())
            log.info("migrated: %d migration(s) applied, %d code file(s) re-applied", len(pending), len(files))
            return len(pending), len(files)
        finally:
            conn.execute(queries.MIGRATE_UNLOCK)
