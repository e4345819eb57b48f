"""A Citus cluster for the tests: databases made on every node of the cluster whose coordinator
a DSN names (its workers read from pg_dist_node of that DSN's database)."""

import time

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def node_dsns(dsn: str) -> list[str]:
    """The coordinator's DSN, then each worker's, for the same database."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        ports = [r[0] for r in conn.execute(
            "select nodeport from pg_dist_node where groupid <> 0 and noderole = 'primary' order by nodeport")]
    return [dsn] + [make_conninfo(dsn, port=str(p)) for p in ports]


def create_database(cluster_dsn: str, name: str, with_citus: bool = True, template: str | None = None) -> str:
    """A database on every node: a copy of template, or new with citus created on the workers
    (and on the coordinator, with the workers added, when with_citus). Returns its coordinator DSN."""
    nodes = node_dsns(cluster_dsn)
    for i, node in enumerate(nodes):
        with psycopg.connect(node, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            if template:
                _while_in_use(conn, f'create database "{name}" template "{template}"', template)
            else:
                conn.execute(f'create database "{name}"')
        if i > 0 and not template:
            with psycopg.connect(make_conninfo(node, dbname=name), autocommit=True) as conn:
                conn.execute("create extension citus")
    coordinator = make_conninfo(cluster_dsn, dbname=name)
    if with_citus and not template:
        add_citus(cluster_dsn, coordinator)
    return coordinator


def _while_in_use(conn: psycopg.Connection, statement: str, database: str) -> None:
    """Run a CREATE or DROP DATABASE that needs database to itself. Citus keeps sessions open in
    every database that has it (its maintenance daemon, connections between nodes): end them,
    as nothing else uses it here, and try again while one comes back."""
    for attempt in range(50):
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                     "where datname = %s and pid <> pg_backend_pid()", (database,))
        try:
            conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt == 49:
                raise
            time.sleep(0.1)


def add_citus(cluster_dsn: str, coordinator: str) -> None:
    """Create citus in the coordinator's database and add the workers, as a user would."""
    params = conninfo_to_dict(coordinator)
    host, port = params.get("host", "127.0.0.1"), int(params.get("port", 5432))
    workers = [int(conninfo_to_dict(d)["port"]) for d in node_dsns(cluster_dsn)[1:]]
    with psycopg.connect(coordinator, autocommit=True) as conn:
        conn.execute("create extension if not exists citus")
        conn.execute("select citus_set_coordinator_host(%s, %s)", (host, port))
        for worker in workers:
            conn.execute("select citus_add_node(%s, %s)", (host, worker))


def drop_database(cluster_dsn: str, name: str) -> None:
    for node in node_dsns(cluster_dsn):
        with psycopg.connect(node, autocommit=True) as conn:
            _while_in_use(conn, f'drop database if exists "{name}" with (force)', name)
