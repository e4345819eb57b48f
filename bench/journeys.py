"""Journeys (issue 19): what events, segments, conditions and waits cost, each beside the same work
without the feature, measured in the same run."""

import json

from common import Figure, connect, drop_db, fresh_db, median, paired, timed
from core import TWO_STEPS, add_contacts


def _sequence(conn, trigger_type: str, value: str | None, name: str, entry_condition: str | None = None) -> int:
    sid = conn.execute("insert into drip.sequences (name, trigger_type, trigger_value, entry_condition) "
                       "values (%s, %s, %s, %s) returning id", (name, trigger_type, value, entry_condition)
                       ).fetchone()["id"]
    conn.execute(TWO_STEPS, {"s": sid})
    return sid


def bench_event_enrollment(base: str, n: int, sequences: int, runs: int) -> Figure:
    """n events in one INSERT, each enrolling into `sequences` event sequences of its name, against
    the same event and enrollment rows inserted into plain copies of the tables."""
    dsn = fresh_db(base, "pgdrip_bench_events")
    with connect(dsn) as conn:
        add_contacts(conn, n)
        for i in range(sequences):
            _sequence(conn, "event", "cart_abandoned", f"cart {i}")
        conn.execute("create schema plain")
        conn.execute("create table plain.events (like drip.events including all)")
        conn.execute("create table plain.enrollments (like drip.enrollments including all)")

        def reset() -> None:
            conn.execute("truncate drip.events, drip.enrollments, plain.events, plain.enrollments")
            conn.execute("vacuum analyze drip.events, drip.enrollments, plain.events, plain.enrollments")
            conn.execute("checkpoint")

        events = ("insert into {t} (contact_id, name, key, payload) "
                  "select id, 'cart_abandoned', 'cart-' || id, jsonb_build_object('total', id % 100) "
                  "from drip.contacts")

        def ours() -> None:
            conn.execute(events.format(t="drip.events"))

        def theirs() -> None:
            with conn.transaction():
                conn.execute(events.format(t="plain.events"))
                conn.execute("insert into plain.enrollments (sequence_id, contact_id, next_step_due_at, event_key, "
                             "event_id) select s.id, e.contact_id, now(), e.key, e.id "
                             "from plain.events e cross join drip.sequences s")

        def check() -> None:
            made = conn.execute("select count(*) n from drip.enrollments").fetchone()["n"]
            assert made == n * sequences, made
        mine, base_times, ratios = paired(runs, reset, ours, theirs, check)
    drop_db(base, "pgdrip_bench_events")
    return Figure(f"insert {n:,} events enrolling into {sequences} event sequences", median(mine), "s",
                  median(base_times), "the same rows into plain copies", "<= 1.5x", ratios)


def bench_segment_update(base: str, n: int, segments: int, runs: int) -> Figure:
    """An UPDATE of n contacts' attributes with `segments` segment sequences defined (each on its own
    plan value, some also reading tags, events or another attribute; the UPDATE moves a fifth of
    the contacts onto a segment's plan), against the same UPDATE with none defined, alternately in
    two databases. Every contact's attributes change, so every one is judged."""
    with_dsn = fresh_db(base, "pgdrip_bench_segments")
    without_dsn = fresh_db(base, "pgdrip_bench_nosegments")
    for dsn in (with_dsn, without_dsn):
        with connect(dsn) as conn:
            add_contacts(conn, n)
            conn.execute("update drip.contacts set attributes = jsonb_build_object('plan', 'free', 'seats', id % 50)")
            conn.execute("vacuum analyze drip.contacts")
    with connect(with_dsn) as conn:
        # distinct segments, as a workspace has: each on its own plan, some with a second clause
        for i in range(segments):
            condition = [{"attribute": "plan", "equals": f"p{i}"},
                         {"all": [{"attribute": "plan", "equals": f"p{i}"}, {"attribute": "seats", "gte": 10}]},
                         {"any": [{"attribute": "plan", "equals": f"p{i}"}, {"tag": f"t{i}"}]},
                         {"all": [{"attribute": "plan", "equals": f"p{i}"}, {"not": {"event": f"e{i}"}}]}][i % 4]
            _sequence(conn, "segment", None, f"segment {i}", entry_condition=json.dumps(condition))
    # every contact's plan changes; a fifth of them move onto one segment's plan
    update = ("update drip.contacts set attributes = attributes || jsonb_build_object('plan', "
              "case when id %% 5 = 0 then 'p' || (id / 5 %% %(segments)s) else %(plan)s end, 'seats', id %% 50)")

    def run(dsn: str) -> float:
        with connect(dsn) as conn:
            # everyone leaves the segments again (untimed), so each run has the same entries
            conn.execute("update drip.contacts set attributes = jsonb_build_object('plan', 'none', 'seats', id % 50)")
            conn.execute("truncate drip.enrollments")
            conn.execute("vacuum analyze drip.contacts, drip.enrollments, drip.segment_members")
            conn.execute("checkpoint")
            return timed(lambda: conn.execute(update, {"plan": "free", "segments": segments}))

    ours, theirs, ratios = [], [], []
    for i in range(runs):
        order = (with_dsn, without_dsn) if i % 2 == 0 else (without_dsn, with_dsn)
        times = {dsn: run(dsn) for dsn in order}
        ours.append(times[with_dsn])
        theirs.append(times[without_dsn])
        ratios.append(ours[-1] / theirs[-1])
    with connect(with_dsn) as conn:
        entered = conn.execute("select count(*) n from drip.enrollments").fetchone()["n"]
        assert entered > 0, entered
    drop_db(base, "pgdrip_bench_segments")
    drop_db(base, "pgdrip_bench_nosegments")
    return Figure(f"update attributes of {n:,} contacts with {segments} segments",
                  median(ours), "s", median(theirs), "the same UPDATE, no segment", "<= 2x", ratios,
                  detail=f"{entered:,} enter one")


def bench_send_if_dispatch(base: str, n: int, runs: int) -> Figure:
    """Dispatch of n due steps that all carry a send_if (true for everyone, so both queue the same
    mail), against the same dispatch of a step without one, alternately in two databases."""
    dsns = {}
    for name, condition in (("pgdrip_bench_sendif", '{"attribute": "seats", "gte": 0}'),
                            ("pgdrip_bench_nosendif", None)):
        dsn = fresh_db(base, name)
        with connect(dsn) as conn:
            add_contacts(conn, n)
            conn.execute("update drip.contacts set attributes = jsonb_build_object('seats', id % 50)")
            sid = _sequence(conn, "after_purchase", None, "due")
            conn.execute("update drip.sequence_steps set send_if = %s where sequence_id = %s and step_order = 1",
                         (condition, sid))
            conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                         "from drip.contacts")
            conn.execute("vacuum analyze")
        dsns[name] = (dsn, sid)

    def run(name: str) -> float:
        dsn, sid = dsns[name]
        with connect(dsn) as conn:
            conn.execute("truncate drip.outbox, drip.step_stats")
            conn.execute("update drip.enrollments set status = 'active', last_step_order_sent = 0, "
                         "last_step_sent_at = null, next_step_due_at = enrolled_at, completed_at = null")
            conn.execute("vacuum analyze drip.enrollments, drip.outbox")
            conn.execute("checkpoint")
            took = timed(lambda: conn.execute("call drip.dispatch_due()"))
            moved = conn.execute("select count(*) n from drip.enrollments where last_step_order_sent = 1"
                                 ).fetchone()["n"]
            assert moved == n, moved
            return took

    ours, theirs, ratios = [], [], []
    for i in range(runs):
        order = ("pgdrip_bench_sendif", "pgdrip_bench_nosendif")
        times = {name: run(name) for name in (order if i % 2 == 0 else order[::-1])}
        ours.append(times["pgdrip_bench_sendif"])
        theirs.append(times["pgdrip_bench_nosendif"])
        ratios.append(ours[-1] / theirs[-1])
    for name in dsns:
        drop_db(base, name)
    return Figure(f"dispatch {n:,} due steps that all carry a send_if", median(ours), "s", median(theirs),
                  "the same dispatch without", "<= 1.3x", ratios)


def bench_wait_events(base: str, n: int, runs: int) -> list[Figure]:
    """n events in one INSERT, each ending a wait_for_event of an active enrollment, against the
    same rows inserted into a plain copy of drip.events, and against the write floor: the same
    rows into the plain copy plus the same due times written into a plain copy of the
    enrollments by hand (behaviour 20 moves next_step_due_at, and updating a row with five
    indexes costs more than inserting an event)."""
    dsn = fresh_db(base, "pgdrip_bench_waits")
    with connect(dsn) as conn:
        add_contacts(conn, n)
        sid = _sequence(conn, "after_purchase", None, "waits")
        conn.execute("update drip.sequence_steps set wait_for_event = 'activated' where sequence_id = %s "
                     "and step_order = 2", (sid,))
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")
        conn.execute("call drip.dispatch_due()")  # step 1 sent: every enrollment waits for step 2
        conn.execute("create schema plain")
        conn.execute("create table plain.events (like drip.events including all)")
        conn.execute("create table plain.enrollments (like drip.enrollments including all)")
        waiting = conn.execute("select min(next_step_due_at) t from drip.enrollments").fetchone()["t"]

        def reset() -> None:
            conn.execute("truncate drip.events, plain.events, plain.enrollments")
            conn.execute("update drip.enrollments set next_step_due_at = %s", (waiting,))
            conn.execute("insert into plain.enrollments overriding system value select * from drip.enrollments")
            conn.execute("vacuum analyze drip.events, plain.events, drip.enrollments, plain.enrollments")
            conn.execute("checkpoint")

        events = "insert into {t} (contact_id, name) select id, 'activated' from drip.contacts"

        def floor() -> None:
            with conn.transaction():
                conn.execute(events.format(t="plain.events"))
                conn.execute("update plain.enrollments e set next_step_due_at = v.occurred_at from plain.events v "
                             "where v.contact_id = e.contact_id and e.status = 'active'")

        def check() -> None:
            ended = conn.execute("select count(*) n from drip.enrollments where next_step_due_at < %s",
                                 (waiting,)).fetchone()["n"]
            assert ended == n, ended
        mine, plain, ratios = paired(runs, reset, lambda: conn.execute(events.format(t="drip.events")),
                                     lambda: conn.execute(events.format(t="plain.events")), check)
        mine_2, floors, floor_ratios = paired(runs, reset, lambda: conn.execute(events.format(t="drip.events")),
                                              floor, check)
    drop_db(base, "pgdrip_bench_waits")
    return [Figure(f"insert {n:,} events that each end a wait", median(mine), "s", median(plain),
                   "the same rows into a plain copy", "<= 1.5x", ratios),
            Figure(f"insert {n:,} events that each end a wait (write floor)", median(mine_2), "s", median(floors),
                   "the same rows and due times written by hand into plain copies", "(reference)", floor_ratios)]


if __name__ == "__main__":
    import argparse

    from common import server_dsn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = server_dsn()
    runs = 1 if args.quick else args.runs
    scale = 10 if args.quick else 1
    print("| figure | pgdrip | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    print(bench_event_enrollment(base, 100_000 // scale, 10, runs).row(), flush=True)
    print(bench_segment_update(base, 100_000 // scale, 20, runs).row(), flush=True)
    print(bench_send_if_dispatch(base, 50_000 // scale, runs).row(), flush=True)
    for figure in bench_wait_events(base, 100_000 // scale, runs):
        print(figure.row(), flush=True)
