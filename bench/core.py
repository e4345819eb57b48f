"""Database-side figures: bulk tagging, dispatch, dispatch with history, scaling, sweep."""

import datetime as dt

from common import Figure, connect, drop_db, fresh_db, median, paired, timed

TWO_STEPS = ("insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
             "values (%(s)s, 1, 0, 'Hi {{FirstName|there}}', '<p>Hello {{FirstName}}, welcome.</p>'), "
             "(%(s)s, 2, 24, 'Day two, {{FirstName}}', '<p>More for {{FirstName}} at {{Email}}.</p>')")


def add_contacts(conn, n: int) -> None:
    conn.execute("insert into drip.contacts (email, first_name, birthday, created_at) "
                 "select 'u' || g || '@example.com', 'Name' || g, "
                 "date '1950-01-01' + (g::bigint * 7919 %% 25000)::integer, "
                 "timestamptz '2020-01-01' + (g %% 1500) * interval '1 day' from generate_series(1, %(n)s) g",
                 {"n": n})
    conn.execute("vacuum analyze drip.contacts")


def add_sequence(conn, trigger_type: str, value: str | None, name: str) -> int:
    sid = conn.execute("insert into drip.sequences (name, trigger_type, trigger_value) values (%s, %s, %s) "
                       "returning id", (name, trigger_type, value)).fetchone()["id"]
    conn.execute(TWO_STEPS, {"s": sid})
    return sid


def bench_tagging(base: str, n: int, runs: int) -> Figure:
    dsn = fresh_db(base, "pgdrip_bench_tag")
    with connect(dsn) as conn:
        add_contacts(conn, n)
        add_sequence(conn, "tag_added", "bench", "by value")
        add_sequence(conn, "tag_added", None, "any tag")
        tag = conn.execute("insert into drip.tags (name) values ('bench') returning id").fetchone()["id"]
        conn.execute("create schema plain")
        conn.execute("create table plain.contact_tags (like drip.contact_tags including all)")
        conn.execute("create table plain.enrollments (like drip.enrollments including all)")

        def reset() -> None:
            conn.execute("truncate drip.contact_tags, drip.enrollments, plain.contact_tags, plain.enrollments")
            conn.execute("vacuum analyze drip.contact_tags, drip.enrollments, plain.contact_tags, plain.enrollments")
            conn.execute("checkpoint")

        def tagging() -> None:
            conn.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts", (tag,))

        def baseline() -> None:
            with conn.transaction():
                conn.execute("insert into plain.contact_tags (contact_id, tag_id) "
                             "select id, %s from drip.contacts", (tag,))
                conn.execute("insert into plain.enrollments (sequence_id, contact_id, next_step_due_at) "
                             "select s.id, c.id, now() from drip.contacts c cross join drip.sequences s")

        def check() -> None:
            made = conn.execute("select count(*) n from drip.enrollments").fetchone()["n"]
            assert made == 2 * n, made
        ours, theirs, ratios = paired(runs, reset, tagging, baseline, check)
    drop_db(base, "pgdrip_bench_tag")
    return Figure(f"bulk tagging {n:,} into 2 sequences", median(ours), "s", median(theirs),
                  "plain tables, no triggers", "<= 1.2x", ratios)


def _due_db(base: str, name: str, n: int) -> tuple[str, int]:
    dsn = fresh_db(base, name)
    with connect(dsn) as conn:
        add_contacts(conn, n)
        sid = add_sequence(conn, "after_purchase", None, "due")
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")
        conn.execute("vacuum analyze drip.enrollments")
    return dsn, sid


RESET_DUE = ("update drip.enrollments set status = 'active', last_step_order_sent = 0, last_step_sent_at = null, "
             "next_step_due_at = enrolled_at, completed_at = null where sequence_id = %(s)s")


def _timed_dispatch_from_scratch(conn, sid: int) -> float:
    """Makes the sequence's enrollments due again (the caller has cleared their outbox rows),
    starts from clean statistics and a checkpoint, and times one dispatch_due."""
    conn.execute(RESET_DUE, {"s": sid})
    conn.execute("vacuum analyze drip.enrollments, drip.outbox")
    conn.execute("checkpoint")
    return timed(lambda: conn.execute("call drip.dispatch_due()"))


def bench_dispatch(base: str, n: int, runs: int) -> Figure:
    dsn, sid = _due_db(base, "pgdrip_bench_dispatch", n)
    with connect(dsn) as conn:
        conn.execute("create schema plain")
        conn.execute("create table plain.outbox (like drip.outbox including all)")
        conn.execute("create table plain.enrollments (like drip.enrollments including all)")

        def reset() -> None:
            conn.execute("truncate drip.outbox, plain.outbox, plain.enrollments")
            conn.execute(RESET_DUE, {"s": sid})
            conn.execute("insert into plain.enrollments overriding system value select * from drip.enrollments")
            conn.execute("vacuum analyze drip.enrollments, drip.outbox, plain.enrollments, plain.outbox")
            conn.execute("checkpoint")

        def baseline() -> None:
            with conn.transaction():
                conn.execute("""
                    insert into plain.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body,
                                              text_body)
                    select e.id, st.id, c.id, c.email,
                           replace(replace(st.subject, '{{FirstName|there}}', coalesce(c.first_name, 'there')),
                                   '{{FirstName}}', coalesce(c.first_name, '')),
                           replace(replace(st.html_body, '{{FirstName}}', coalesce(c.first_name, '')),
                                   '{{Email}}', c.email),
                           replace(replace(st.text_body, '{{FirstName}}', coalesce(c.first_name, '')),
                                   '{{Email}}', c.email)
                    from plain.enrollments e
                    join drip.contacts c on c.id = e.contact_id
                    join drip.sequence_steps st on st.sequence_id = e.sequence_id
                         and st.step_order = e.last_step_order_sent + 1
                    where e.status = 'active' and e.next_step_due_at <= now()""")
                conn.execute("""
                    update plain.enrollments e set last_step_order_sent = 1, last_step_sent_at = now(),
                           next_step_due_at = now() + interval '24 hours'
                    where e.status = 'active' and e.next_step_due_at <= now()""")

        def check() -> None:
            queued = conn.execute("select count(*) n from drip.outbox").fetchone()["n"]
            assert queued == n, queued
        ours, theirs, ratios = paired(runs, reset, lambda: conn.execute("call drip.dispatch_due()"), baseline,
                                      check)
    drop_db(base, "pgdrip_bench_dispatch")
    return Figure(f"dispatch {n:,} due", median(ours), "s", median(theirs), "hand-written set-based SQL",
                  "<= 1.3x", ratios)


def bench_history(base: str, n: int, history: int, runs: int) -> Figure:
    """Two databases with the same due set, one also holding the history; measured alternately
    so that the noise of a shared machine falls on both sides."""
    plain_dsn, plain_sid = _due_db(base, "pgdrip_bench_nohistory", n)
    hist_dsn, hist_sid = _due_db(base, "pgdrip_bench_history", n)
    with connect(hist_dsn) as conn:
        old = add_sequence(conn, "after_purchase", "old", "history")
        conn.execute("insert into drip.enrollments (sequence_id, contact_id, status, last_step_order_sent, "
                     "last_step_sent_at, enrolled_at, completed_at) "
                     "select %(s)s, c.id, 'completed', 2, now() - interval '1 day', now() - interval '3 days', "
                     "now() - interval '1 day' from drip.contacts c, generate_series(1, %(k)s) k",
                     {"s": old, "k": max(1, history // n)})
        conn.execute("insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, "
                     "status, sent_at, attempts) select e.id, st.id, e.contact_id, 'x@example.com', 's', 'b', "
                     "'sent', now(), 1 from drip.enrollments e join drip.sequence_steps st "
                     "on st.sequence_id = e.sequence_id where e.sequence_id = %s", (old,))

    def once(dsn: str, sid: int) -> float:
        with connect(dsn) as conn:
            conn.execute("delete from drip.outbox where enrollment_id in "
                         "(select id from drip.enrollments where sequence_id = %s)", (sid,))
            return _timed_dispatch_from_scratch(conn, sid)

    without, with_history = [], []
    for _ in range(max(runs, 5)):
        without.append(once(plain_dsn, plain_sid))
        with_history.append(once(hist_dsn, hist_sid))
    drop_db(base, "pgdrip_bench_nohistory")
    drop_db(base, "pgdrip_bench_history")
    return Figure(f"dispatch {n:,} due with {history:,} finished enrollments (+ sent outbox)", median(with_history),
                  "s", median(without), "same dispatch, no history", "<= 1.1x")


def bench_scaling(base: str, sizes: list[int], runs: int) -> list[Figure]:
    """Dispatch time per due enrollment at each size: the median of several runs for the small sizes
    (a 10k dispatch takes a fraction of a second, so one run is mostly noise), one run at 1M."""
    figures = []
    per_due = {}
    for n in sizes:
        dsn, sid = _due_db(base, "pgdrip_bench_scale", n)
        times = []
        with connect(dsn) as conn:
            for _ in range(max(1, runs * 100_000 // n) if n < 1_000_000 else 1):
                conn.execute("truncate drip.outbox")
                times.append(_timed_dispatch_from_scratch(conn, sid))
        per_due[n] = median(times) / n * 1e6
        drop_db(base, "pgdrip_bench_scale")
    smallest = per_due[sizes[0]]
    for n in sizes:
        figures.append(Figure(f"dispatch time per due at {n:,} due", per_due[n], "µs", smallest,
                              f"per due at {sizes[0]:,}", "flat within 1.3x"))
    return figures


def bench_sweep(base: str, n: int, runs: int) -> list[Figure]:
    """The sweep against one full scan of contacts, and the floor under it: a bare INSERT of the
    same enrollment rows into a plain copy of the table (same indexes, no triggers)."""
    dsn = fresh_db(base, "pgdrip_bench_sweep")
    day = dt.date(2027, 6, 15)
    with connect(dsn) as conn:
        add_contacts(conn, n)
        add_sequence(conn, "anniversary", "birthday", "birthdays")
        add_sequence(conn, "anniversary", "created", "signups")
        conn.execute("create schema plain")
        conn.execute("create table plain.enrollments (like drip.enrollments including all)")
        ours, scans, floors = [], [], []
        enrolled = 0
        for _ in range(runs):
            conn.execute("truncate drip.enrollments, drip.sweeps, plain.enrollments")
            conn.execute("vacuum analyze drip.enrollments, plain.enrollments")
            ours.append(timed(lambda: conn.execute("call drip.anniversary_sweep(%s)", (day,))))
            enrolled = conn.execute("select count(*) n from drip.enrollments").fetchone()["n"]
            scans.append(timed(lambda: conn.execute("select count(*) from drip.contacts "
                                                    "where drip.month_day(birthday) = 615").fetchone()))
            floors.append(timed(lambda: conn.execute(
                "insert into plain.enrollments (sequence_id, contact_id, next_step_due_at, occurrence) "
                "select sequence_id, contact_id, next_step_due_at, occurrence from drip.enrollments")))
    drop_db(base, "pgdrip_bench_sweep")
    return [Figure(f"anniversary sweep over {n:,} contacts ({enrolled:,} enrolled)", median(ours), "s", median(scans),
                   "one full scan of contacts", "<= 0.1x"),
            Figure(f"floor: bare INSERT of the same {enrolled:,} enrollments", median(floors), "s", median(scans),
                   "one full scan of contacts", "(reference)")]
