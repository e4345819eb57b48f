"""pgdrip on Citus beside single-node PostgreSQL: the same work, timed on both in one run.

    PGDRIP_CITUS_DSN="host=127.0.0.1 port=9700 user=postgres dbname=postgres" python bench/citus.py

Needs a cluster (../shared/citus/cluster.sh start) and a single server (PGDRIP_BENCH_DSN, else
127.0.0.1:5432). Each side gets its own database migrated by the real `pgdrip migrate` (on the
cluster, so distributed with citus.shard_count shards). On one machine the cluster shows plan
shape and overhead, not speed-up: its three servers share the same two cores.
- tagging: N contacts tagged in one INSERT ... SELECT, each enrolled in the same statement;
- dispatch: M due enrollments queued by drip.dispatch_due;
- the drain's database side: the outbox claimed 500 at a time and each batch recorded sent
  (drip.claim_outbox, drip.finish_outbox), in messages per second;
- on the cluster, the two ways weighed to run a function in every shard, on an empty round: all
  shards in one statement (`select f(k.tableoid) from drip.shard_keys k`) against one
  single-shard statement per shard;
- EXPLAIN of the dispatch and claim rounds, to show they are pushed down to every shard.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runner"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure  # noqa: E402

from pgdrip.migrate import migrate  # noqa: E402
from tests.cluster import create_database, drop_database  # noqa: E402


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def work(dsn: str, contacts: int, due: int) -> dict[str, float]:
    """The three timings on one migrated, empty database."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as db:
        db.execute("insert into drip.sequences (name, trigger_type, trigger_value) values ('s', 'tag_added', 'x')")
        db.execute("insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
                   "values (1, 1, 0, 'Hello {{FirstName}}', '<p>Hi</p>')")
        db.execute("insert into drip.tags (name) values ('x')")
        db.execute("insert into drip.contacts (email, first_name) "
                   "select 'u' || g || '@example.com', 'U' || g from generate_series(1, %s) g", (contacts,))
        tagging = timed(lambda: db.execute(
            "insert into drip.contact_tags (contact_id, tag_id) select id, 1 from drip.contacts"))
        assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == contacts
        # only `due` of them due now
        db.execute("update drip.enrollments set next_step_due_at = now() + interval '1 day' "
                   "where contact_id > %s", (due,))
        dispatch = timed(lambda: db.execute("call drip.dispatch_due()"))
        assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == due

        def drain() -> None:
            while ids := [r["id"] for r in db.execute("select id from drip.claim_outbox('bench', 500, 300)")]:
                db.execute("select drip.finish_outbox('bench', %s, 'sent')", (ids,))

        drained = timed(drain)
        assert db.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == due
        return {"tagging": tagging, "dispatch": dispatch, "drain": due / drained}


def citus_extras(dsn: str) -> tuple[float, float, str]:
    """An empty dispatch round both ways, and the EXPLAIN of the rounds."""
    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as db:
        keys = [r["key"] for r in db.execute("select key from drip.shard_keys order by key")]
        round_sql = "select drip.dispatch_shard(k.tableoid, now(), 1000) from drip.shard_keys k"
        at_once = min(timed(lambda: db.execute(round_sql)) for _ in range(5))
        one_by_one = min(timed(lambda: [db.execute(round_sql + " where k.key = %s", (key,)) for key in keys])
                         for _ in range(5))
        plans = []
        for sql in (round_sql, "select drip.claim_shard(k.tableoid, 'bench', 16, 300) from drip.shard_keys k"):
            plan = "\n".join(r["QUERY PLAN"] for r in db.execute("explain (costs off) " + sql))
            plans.append(f"{sql}\n{plan}")
        return at_once, one_by_one, "\n\n".join(plans)


def bench_citus(single: str, cluster: str, contacts: int, due: int) -> tuple[list[Figure], str]:
    """The same work on one server and on the cluster, and the cluster's rounds: figures, and the
    EXPLAIN of the rounds as text."""
    name = "pgdrip_bench_citus"
    with psycopg.connect(single, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)")
        conn.execute(f"create database {name}")
    try:
        one = make_conninfo(single, dbname=name)
        migrate(one)
        on_one = work(one, contacts, due)
    finally:
        with psycopg.connect(single, autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")

    dsn = create_database(cluster, name)
    try:
        migrate(dsn)
        on_citus = work(dsn, contacts, due)
        at_once, one_by_one, plans = citus_extras(dsn)
        with psycopg.connect(dsn) as conn:
            shards = conn.execute("select count(*) from drip.shard_keys").fetchone()[0]
    finally:
        drop_database(cluster, name)
    where = f"{shards} shards"
    figures = [
        Figure(f"Citus: tag {contacts:,} contacts in one INSERT ... SELECT, enrolling each", on_citus["tagging"], "s",
               on_one["tagging"], "the same on one server", "(reference)", detail=where),
        Figure(f"Citus: dispatch {due:,} due enrollments", on_citus["dispatch"], "s", on_one["dispatch"],
               "the same on one server", "(reference)", detail=where),
        # a throughput: the ratio is Citus's rate over one server's, so below 1x is slower
        Figure("Citus: the drain's database side, claim 500 and record them sent, until empty", on_citus["drain"],
               "msg/s", on_one["drain"], "the same on one server", "(reference)", detail=where),
        Figure("Citus: an empty dispatch round, all shards in one statement (best of 5)", at_once * 1000, "ms",
               one_by_one * 1000, "one statement per shard, in turn (best of 5)", "(reference)", detail=where),
    ]
    return figures, plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=50_000)
    args = parser.parse_args()
    cluster = os.environ.get("PGDRIP_CITUS_DSN")
    if not cluster:
        sys.exit("set PGDRIP_CITUS_DSN to a Citus coordinator (../shared/citus/cluster.sh start)")
    single = os.environ.get("PGDRIP_BENCH_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    figures, plans = bench_citus(single, cluster, args.contacts, args.due)
    print("| figure | Citus | one server | Citus / one server |")
    print("|---|---|---|---|")
    for f in figures:
        print(f"| {f.name} ({f.detail}) | {f.value:,.2f} {f.unit} | {f.baseline:,.2f} {f.unit} | {f.ratio:.2f}x |")
    print("\n" + plans)


if __name__ == "__main__":
    main()
