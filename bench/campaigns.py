"""Campaign-logic figures: dispatch with send windows and zones, goal exits in bulk, the step
report over a large outbox, and pruning beside a running dispatcher."""

import statistics
import threading
import time

from common import Figure, connect, drop_db, fresh_db, median, paired, timed
from core import add_contacts, add_sequence

NOON = "2030-01-09 12:00+00"  # a Wednesday: 13:00 in Berlin, 07:00 in New York, 17:30 in Kolkata
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata")
CHECKPOINT = True


def bench_dispatch_windows(base: str, n: int, runs: int) -> Figure:
    """The same n due enrollments dispatched at the same moment, with and without send windows,
    weekdays and contact zones (every recipient inside its window, so both queue the same mail)."""
    dsn = fresh_db(base, "pgdrip_bench_windows")
    with connect(dsn) as conn:
        add_contacts(conn, n)
        conn.execute("update drip.contacts set time_zone = (%s::text[])[1 + id %% 3]", (list(ZONES),))
        sid = add_sequence(conn, "after_purchase", None, "due")
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")

        def reset() -> None:
            conn.execute("truncate drip.outbox, drip.step_stats")
            conn.execute("update drip.enrollments set status = 'active', last_step_order_sent = 0, "
                         "last_step_sent_at = null, next_step_due_at = %s::timestamptz - interval '1 hour', "
                         "completed_at = null where sequence_id = %s", (NOON, sid))
            conn.execute("vacuum analyze drip.enrollments, drip.outbox, drip.contacts")
            conn.execute("checkpoint")

        def dispatch(windows: bool) -> None:
            if windows:
                conn.execute("update drip.sequences set send_window_start = '06:00', send_window_end = '22:00', "
                             "send_days = '{1,2,3,4,5,6,7}', time_zone = 'Europe/Berlin' where id = %s", (sid,))
            else:
                conn.execute("update drip.sequences set send_window_start = null, send_window_end = null, "
                             "send_days = null, time_zone = 'UTC' where id = %s", (sid,))
            conn.execute("call drip.dispatch_due(%s)", (NOON,))

        def check() -> None:
            assert conn.execute("select count(*) n from drip.outbox").fetchone()["n"] == n

        ours, theirs, ratios = paired(runs, reset, lambda: dispatch(True), lambda: dispatch(False), check)
    drop_db(base, "pgdrip_bench_windows")
    return Figure(f"dispatch {n:,} due with send windows, weekdays and 3 contact zones", median(ours), "s",
                  median(theirs), "the same dispatch without windows or zones", "<= 1.15x", ratios)


def bench_goal_exits(base: str, n: int, runs: int) -> Figure:
    """One INSERT of n confirmed purchases whose goal ends n active enrollments, against the same
    INSERT when no sequence has that goal."""
    dsn = fresh_db(base, "pgdrip_bench_goals")
    with connect(dsn) as conn:
        add_contacts(conn, n)
        sid = add_sequence(conn, "tag_added", None, "nurture")
        conn.execute("select drip.enroll_events('tag_added', array_agg(id), array_agg('x'::text)) from drip.contacts")

        def reset() -> None:
            conn.execute("truncate drip.purchases")
            conn.execute("update drip.enrollments set status = 'active', exited_at = null, "
                          "next_step_due_at = now() + interval '1 day' where sequence_id = %s", (sid,))
            conn.execute("vacuum analyze drip.enrollments, drip.purchases")
            if CHECKPOINT:
                conn.execute("checkpoint")

        def purchases(goal: bool) -> None:
            conn.execute("update drip.sequences set exit_trigger_type = %s where id = %s",
                         ("after_purchase" if goal else None, sid))
            conn.execute("insert into drip.purchases (contact_id, product_id) select id, 'p' from drip.contacts")

        def check() -> None:
            exited = conn.execute("select count(*) n from drip.enrollments where status = 'exited'").fetchone()["n"]
            assert exited == n, exited

        ours, theirs, ratios = paired(runs, reset, lambda: purchases(True), lambda: purchases(False), check)
    drop_db(base, "pgdrip_bench_goals")
    return Figure(f"one INSERT of {n:,} purchases that exits {n:,} enrollments (goal)", median(ours), "s",
                  median(theirs), "the same INSERT, no goal", "<= 1.5x", ratios)


def bench_step_report(base: str, rows: int, deltas: int) -> list[Figure]:
    """drip.step_report over an outbox of `rows` rows in 20 steps: compacted (the steady state of
    an hourly fold), and with `deltas` unfolded counter rows (about a busy day's statements)."""
    dsn = fresh_db(base, "pgdrip_bench_report")
    with connect(dsn) as conn:
        conn.execute("insert into drip.contacts (email) values ('a@example.com')")
        seqs = [add_sequence(conn, "tag_added", None, f"s{i}") for i in range(10)]
        steps = [r["id"] for r in conn.execute("select id from drip.sequence_steps where sequence_id = any(%s)",
                                               (seqs,))]
        conn.execute("""
            insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, status,
                                     created_at, sent_at)
            select g, (%(steps)s::bigint[])[1 + g %% 20], 1, 'a@example.com', 's', '<p>b</p>',
                   (array['sent', 'sent', 'sent', 'failed', 'cancelled'])[1 + g %% 5],
                   now() - (g %% 180) * interval '1 day', now()
            from generate_series(1, %(rows)s) g""", {"steps": steps, "rows": rows})
        conn.execute("vacuum analyze")
        query = "select * from drip.step_report"

        def time_report() -> float:
            times = [timed(lambda: conn.execute(query).fetchall()) for _ in range(20)]
            return statistics.median(times)

        scan = median([timed(lambda: conn.execute(
            "select step_id, status, count(*) from drip.outbox group by 1, 2").fetchall()) for _ in range(3)])
        folded = time_report()
        conn.execute("insert into drip.step_stats (step_id, day, sent) "
                     "select (%(steps)s::bigint[])[1 + g %% 20], current_date, 1 from generate_series(1, %(d)s) g",
                     {"steps": steps, "d": deltas})
        conn.execute("vacuum analyze drip.step_stats")
        unfolded = time_report()
    drop_db(base, "pgdrip_bench_report")
    return [Figure(f"drip.step_report over {rows:,} outbox rows (counters folded)", folded * 1000, "ms",
                   scan * 1000, "counting the outbox itself", "< 50 ms"),
            Figure(f"drip.step_report with {deltas:,} unfolded counter rows", unfolded * 1000, "ms",
                   scan * 1000, "counting the outbox itself", "(reference)")]


def bench_prune(base: str, rows: int) -> list[Figure]:
    """CALL drip.prune over `rows` old outbox rows while another connection keeps dispatching:
    the longest a dispatch batch waited, against its time with no prune running."""
    dsn = fresh_db(base, "pgdrip_bench_prune")
    with connect(dsn) as conn:
        add_contacts(conn, 2000)
        sid = add_sequence(conn, "after_purchase", None, "due")
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")
        step = conn.execute("select min(id) s from drip.sequence_steps where sequence_id = %s", (sid,)
                            ).fetchone()["s"]
        conn.execute("""
            insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, status,
                                     created_at)
            select -g, %(step)s, 1 + g %% 2000, 'a@example.com', 's', '<p>b</p>', 'sent', now() - interval '1 year'
            from generate_series(1, %(rows)s) g""", {"step": step, "rows": rows})
        conn.execute("vacuum analyze")
        conn.execute("checkpoint")

    def dispatch_latencies(stop: threading.Event, out: list[float]) -> None:
        with connect(dsn) as d:
            while not stop.is_set():
                d.execute("delete from drip.outbox where created_at > now() - interval '1 hour'")
                d.execute("update drip.enrollments set status = 'active', last_step_order_sent = 0, "
                          "last_step_sent_at = null, next_step_due_at = now() - interval '1 minute'")
                out.append(timed(lambda: d.execute("select drip.dispatch_batch(now(), 1000)")))

    quiet: list[float] = []
    stop = threading.Event()
    t = threading.Thread(target=dispatch_latencies, args=(stop, quiet))
    t.start()
    time.sleep(5)
    stop.set()
    t.join()

    busy: list[float] = []
    progress: list[str] = []
    stop = threading.Event()
    t = threading.Thread(target=dispatch_latencies, args=(stop, busy))
    t.start()
    with connect(dsn) as conn:
        conn.add_notice_handler(lambda diag: progress.append(diag.message_primary or ""))
        took = timed(lambda: conn.execute("call drip.prune(interval '30 days')"))
        left = conn.execute("select count(*) n from drip.outbox where created_at < now() - interval '30 days'"
                            ).fetchone()["n"]
    stop.set()
    t.join()
    drop_db(base, "pgdrip_bench_prune")
    assert left == 0, left
    batch = took / max(1, len([p for p in progress if "outbox" in p]))
    print(f"(prune: {len(progress)} progress lines, e.g. {progress[0]!r} ... {progress[-1]!r}; "
          f"one batch took {batch * 1000:.0f} ms on average)")
    assert any("outbox rows deleted" in p for p in progress), progress  # progress is shown
    return [Figure(f"prune of {rows:,} old outbox rows in batches of 5,000", took, "s", target="(reference)",
                   detail=f"{rows / took:,.0f} rows/s, {len(progress)} progress lines"),
            # blocked no longer than one prune batch: the longest dispatch beside the prune, against
            # the longest without it plus one batch of the prune
            Figure("longest dispatch batch (1,000 rows) while prune ran", max(busy) * 1000, "ms",
                   (max(quiet) + batch) * 1000, "longest with no prune running, plus one prune batch", "<= 1.0x")]
