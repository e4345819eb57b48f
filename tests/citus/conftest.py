"""Databases on a Citus cluster for tests/citus: set PGDRIP_CITUS_DSN to the coordinator's
`postgres` database of a cluster whose workers are added there (../shared/citus/cluster.sh start).
Without it every test here skips, with that reason."""

import itertools
import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.cluster import create_database, drop_database

CITUS_DSN = os.environ.get("PGDRIP_CITUS_DSN")
_counter = itertools.count()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CITUS_DSN:
        return
    skip = pytest.mark.skip(reason="no Citus cluster: set PGDRIP_CITUS_DSN to its coordinator to run these")
    for item in items:
        if "tests/citus/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture
def citus_dsn() -> Iterator[str]:
    """A fresh database on the cluster, migrated by the real `pgdrip migrate` (so distributed)."""
    from pgdrip.migrate import migrate

    name = f"drip_citus_{os.getpid()}_{next(_counter)}"
    dsn = create_database(CITUS_DSN, name)
    migrate(dsn)
    yield dsn
    drop_database(CITUS_DSN, name)


@pytest.fixture
def cdb(citus_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(citus_dsn, autocommit=True, row_factory=dict_row) as conn:
        yield conn
