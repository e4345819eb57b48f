"""Where pgdrip finds its SQL and migrations: inside the wheel, or in the source tree."""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE.parent.parent


def _pick(packaged: str, source: str) -> Path:
    inside = _PACKAGE / packaged
    return inside if inside.is_dir() else _SOURCE_ROOT / source


SQL_DIR = _pick("_sql", "sql")
MIGRATIONS_DIR = _pick("_migrations", "migrations")


def code_files() -> list[Path]:
    """Every re-runnable file: functions, procedures and views, then triggers, then the roles and
    grants (last, so that they cover every object just created)."""
    return (
        sorted((SQL_DIR / "functions").glob("*.sql"))
        + sorted((SQL_DIR / "triggers").glob("*.sql"))
        + [SQL_DIR / "privileges.sql"]
    )


def schema_files() -> list[Path]:
    return sorted((SQL_DIR / "schema").glob("*.sql"))
