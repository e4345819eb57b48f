"""Caps and experiments (issues 20 and 21): dispatch under a frequency cap and with variants, each
beside the same dispatch without, and the variant report over a million sent messages."""

from collections.abc import Callable

from common import Figure, connect, drop_db, fresh_db, median, timed
from core import TWO_STEPS, add_contacts

RESET = ("update drip.enrollments set status = 'active', last_step_order_sent = 0, last_step_sent_at = null, "
         "next_step_due_at = enrolled_at, completed_at = null")


def _due(base: str, name: str, contacts: int, sequences: int, setup: Callable) -> str:
    """contacts enrolled into `sequences` sequences (each due now), then setup(conn, step ids)."""
    dsn = fresh_db(base, name)
    with connect(dsn) as conn:
        add_contacts(conn, contacts)
        steps = []
        for i in range(sequences):
            sid = conn.execute("insert into drip.sequences (name, trigger_type, priority) "
                               "values (%s, 'after_purchase', %s) returning id", (f"s{i}", i)).fetchone()["id"]
            conn.execute(TWO_STEPS, {"s": sid})
            steps.append(conn.execute("select id from drip.sequence_steps where sequence_id = %s and step_order = 1",
                                      (sid,)).fetchone()["id"])
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")
        setup(conn, steps)
        conn.execute("vacuum analyze")
    return dsn


def _alternate(runs: int, ours: str, theirs: str, check: Callable) -> tuple[list[float], list[float], list[float]]:
    """One dispatch_due in each database per run, in alternating order, from the same state."""
    def once(dsn: str) -> float:
        with connect(dsn) as conn:
            conn.execute("truncate drip.outbox, drip.step_stats, drip.contact_sends")
            conn.execute(RESET)
            conn.execute("vacuum analyze drip.enrollments, drip.outbox, drip.contact_sends")
            conn.execute("checkpoint")
            took = timed(lambda: conn.execute("call drip.dispatch_due()"))
            check(conn, dsn == ours)
            return took
    mine, base, ratios = [], [], []
    for i in range(runs):
        order = (ours, theirs) if i % 2 == 0 else (theirs, ours)
        times = {dsn: once(dsn) for dsn in order}
        mine.append(times[ours])
        base.append(times[theirs])
        ratios.append(mine[-1] / base[-1])
    return mine, base, ratios


def bench_capped_dispatch(base: str, contacts: int, runs: int) -> Figure:
    """2 due steps for each of `contacts` contacts under a cap of 1 per day (half deferred), beside
    the same dispatch with no cap."""
    ours = _due(base, "pgdrip_bench_capped", contacts, 2,
                lambda conn, steps: conn.execute("insert into drip.frequency_caps (max_messages, per) "
                                                 "values (1, '1 day')"))
    theirs = _due(base, "pgdrip_bench_uncapped", contacts, 2, lambda conn, steps: None)

    def check(conn, capped: bool) -> None:
        queued = conn.execute("select count(*) n from drip.outbox").fetchone()["n"]
        assert queued == (contacts if capped else 2 * contacts), queued
    mine, theirs_t, ratios = _alternate(runs, ours, theirs, check)
    drop_db(base, "pgdrip_bench_capped")
    drop_db(base, "pgdrip_bench_uncapped")
    return Figure(f"dispatch {2 * contacts:,} due steps for {contacts:,} contacts under a cap of 1 a day",
                  median(mine), "s", median(theirs_t), "the same dispatch, no cap", "<= 1.3x", ratios)


def bench_variant_dispatch(base: str, n: int, runs: int) -> Figure:
    """n due steps whose step has 3 variants, beside the same dispatch of a step with none."""
    def variants(conn, steps: list[int]) -> None:
        for name in ("B", "C", "D"):
            conn.execute("insert into drip.step_variants (step_id, name, subject, html_body) "
                         "values (%s, %s, %s, '<p>Hello {{FirstName}}, variant.</p>')",
                         (steps[0], name, f"{name}: hi {{{{FirstName|there}}}}"))
    ours = _due(base, "pgdrip_bench_variants", n, 1, variants)
    theirs = _due(base, "pgdrip_bench_novariants", n, 1, lambda conn, steps: None)

    def check(conn, with_variants: bool) -> None:
        arms = conn.execute("select count(distinct variant_id) n, count(*) m from drip.outbox").fetchone()
        assert arms["m"] == n and arms["n"] == (3 if with_variants else 0), arms
    mine, theirs_t, ratios = _alternate(runs, ours, theirs, check)
    drop_db(base, "pgdrip_bench_variants")
    drop_db(base, "pgdrip_bench_novariants")
    return Figure(f"dispatch {n:,} due steps whose step has 3 variants", median(mine), "s", median(theirs_t),
                  "the same dispatch, no variant", "<= 1.1x", ratios)


def bench_variant_report(base: str, sent: int, runs: int) -> Figure:
    """drip.variant_report once `sent` messages of a 4-arm step were sent (their counters as the
    writers leave them: a row per statement, arm and day, then compacted), beside reading the
    step's own four counter rows."""
    dsn = fresh_db(base, "pgdrip_bench_vreport")
    with connect(dsn) as conn:
        sid = conn.execute("insert into drip.sequences (name, trigger_type) values ('r', 'after_purchase') "
                           "returning id").fetchone()["id"]
        conn.execute(TWO_STEPS, {"s": sid})
        step = conn.execute("select id from drip.sequence_steps where sequence_id = %s and step_order = 1",
                            (sid,)).fetchone()["id"]
        for name in ("B", "C", "D"):
            conn.execute("insert into drip.step_variants (step_id, name, subject, html_body) "
                         "values (%s, %s, 's', '<p>b</p>')", (step, name))
        # a batch of 500 sent per statement, over 90 days, for each arm, then the hourly compaction
        conn.execute("""
            insert into drip.step_stats (step_id, variant_id, day, contact_id, sent, unique_clickers)
            select %(step)s, v.id, current_date - (g %% 90), g, 500, 25
            from generate_series(1, %(batches)s) g
            cross join (select null::bigint as id union all select id from drip.step_variants) v""",
                     {"step": step, "batches": sent // 500 // 4})
        conn.execute("select drip.compact_step_stats()")
        conn.execute("vacuum analyze")
        ours = [timed(lambda: conn.execute("select * from drip.variant_report").fetchall()) for _ in range(runs * 4)]
        floor = [timed(lambda: conn.execute("select * from drip.step_stats where step_id = %s", (step,)).fetchall())
                 for _ in range(runs * 4)]
        total = conn.execute("select sum(sent) n from drip.variant_report").fetchone()["n"]
    drop_db(base, "pgdrip_bench_vreport")
    return Figure(f"variant_report over {sent:,} sent messages", median(ours) * 1000, "ms", median(floor) * 1000,
                  "reading the step's counter rows", "< 50 ms", detail=f"{total:,} counted")


if __name__ == "__main__":
    import argparse

    from common import server_dsn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = server_dsn()
    runs = 1 if args.quick else args.runs
    scale = 10 if args.quick else 1
    print("| figure | pgdrip | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    print(bench_capped_dispatch(server, 25_000 // scale, runs).row(), flush=True)
    print(bench_variant_dispatch(server, 50_000 // scale, runs).row(), flush=True)
    print(bench_variant_report(server, 1_000_000, runs).row(), flush=True)
