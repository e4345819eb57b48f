"""pgdrip on Citus: figures for docs/SCALE_OUT.md, each beside a baseline from the same run.

    PGDRIP_CITUS_DSN="host=127.0.0.1 port=9700 user=postgres dbname=postgres" python bench/citus.py

Needs a cluster (../shared/citus/cluster.sh start). Makes its own database on every node,
migrated by the real `pgdrip migrate` (so distributed, with citus.shard_count shards).
- tagging: N contacts tagged in one INSERT ... SELECT (enrollment in the same statement), beside
  the same INSERT into a distributed table co-located with contacts that has no trigger;
- dispatch: N due enrollments queued by drip.dispatch_due, beside an INSERT ... SELECT of the
  same N rows into a co-located table (what any per-shard write costs);
- the two ways weighed to run a function inside every shard, on an empty round: all shards in
  one statement (`select f(k.tableoid) from drip.shard_keys k`) against one single-shard
  statement per shard;
- claims: the outbox drained by drip.claim_outbox in batches of 500, in rows per second.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "runner"))

from pgdrip.migrate import migrate  # noqa: E402
from tests.cluster import create_database, drop_database  # noqa: E402


def timed(conn: psycopg.Connection, sql: str, params: tuple = ()) -> float:
    started = time.perf_counter()
    conn.execute(sql, params)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cluster = os.environ.get("PGDRIP_CITUS_DSN")
    if not cluster:
        sys.exit("set PGDRIP_CITUS_DSN to a Citus coordinator (../shared/citus/cluster.sh start)")
    n = args.contacts
    rows: dict[str, list[tuple[float, float]]] = {"tagging": [], "dispatch": [], "round": [], "claim": []}
    for run in range(args.runs):
        name = f"pgdrip_bench_citus_{run}"
        dsn = create_database(cluster, name)
        try:
            migrate(dsn)
            with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as db:
                db.execute("insert into drip.sequences (name, trigger_type, trigger_value) "
                           "values ('s', 'tag_added', 'x')")
                db.execute("insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
                           "select 1, 1, 0, 'Hello {{FirstName}}', '<p>Hi</p>'")
                db.execute("insert into drip.tags (name) values ('x')")
                db.execute("insert into drip.contacts (email, first_name) "
                           "select 'u' || g || '@example.com', 'U' || g from generate_series(1, %s) g", (n,))
                for table, columns in (("bench_tags", "contact_id bigint, tag_id bigint"),
                                       ("bench_rows", "contact_id bigint, id bigint, note text")):
                    db.execute(f"create table {table} ({columns})")
                    db.execute("select create_distributed_table(%s, 'contact_id', colocate_with => 'drip.contacts')",
                               (table,))

                base = timed(db, "insert into bench_tags select id, 1 from drip.contacts")
                ours = timed(db, "insert into drip.contact_tags (contact_id, tag_id) select id, 1 from drip.contacts")
                assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == n
                rows["tagging"].append((ours, base))

                base = timed(db, "insert into bench_rows select contact_id, id, 'queued' from drip.enrollments")
                ours = timed(db, "call drip.dispatch_due()")
                assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == n
                rows["dispatch"].append((ours, base))

                # nothing is due now: both ways do one empty batch in every shard
                keys = [r["key"] for r in db.execute("select key from drip.shard_keys order by key")]
                at_once = timed(db, "select drip.dispatch_shard(k.tableoid, now(), 1000) from drip.shard_keys k")
                started = time.perf_counter()
                for key in keys:
                    db.execute("select drip.dispatch_shard(k.tableoid, now(), 1000) from drip.shard_keys k "
                               "where k.key = %s", (key,))
                rows["round"].append((at_once, time.perf_counter() - started))

                started = time.perf_counter()
                claimed = 0
                while got := len(db.execute("select id from drip.claim_outbox('bench', 500, 300)").fetchall()):
                    claimed += got
                elapsed = time.perf_counter() - started
                assert claimed == n
                rows["claim"].append((claimed / elapsed, 0.0))
        finally:
            drop_database(cluster, name)

    with psycopg.connect(cluster) as conn:
        shards = conn.execute("show citus.shard_count").fetchone()[0]
    print(f"pgdrip on Citus: {n:,} contacts, {shards} shards, median of {args.runs}")
    print("| figure | pgdrip | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for label, key, unit in (("tag every contact, enrolling each", "tagging", "s"),
                             ("dispatch every due enrollment", "dispatch", "s")):
        ours = statistics.median(o for o, _ in rows[key])
        base = statistics.median(b for _, b in rows[key])
        print(f"| {label} | {ours:.3f} {unit} | {base:.3f} {unit} (INSERT ... SELECT, no trigger) "
              f"| {ours / base:.2f}x |")
    at_once = statistics.median(a for a, _ in rows["round"]) * 1000
    one_by_one = statistics.median(b for _, b in rows["round"]) * 1000
    print(f"| an empty dispatch round, all shards in one statement | {at_once:.1f} ms | "
          f"{one_by_one:.1f} ms (one statement per shard) | {at_once / one_by_one:.2f}x |")
    claim = statistics.median(r for r, _ in rows["claim"])
    print(f"| claim the whole outbox, 500 at a time | {claim:,.0f} rows/s | - | - |")


if __name__ == "__main__":
    main()
