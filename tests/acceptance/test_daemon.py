"""The daemon: wake-ups within about a second, SIGTERM, recovery from killed connections."""

import statistics
import time

import psycopg

from tests.acceptance.runner_process import RunnerProcess, running
from tests.helpers import ON_CITUS, add_contact, add_contacts, add_sequence, add_tag, not_on_citus, tag_everyone


@not_on_citus(reason="nothing notifies from inside a shard: on Citus the runner finds such mail at its next "
                     "dispatch (docs/SCALE_OUT.md, wake-ups)")
def test_zero_hour_step_is_delivered_within_seconds_with_the_poll_set_to_an_hour(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    t = add_tag(db, "x")
    with running(dsn, tmp_home, "--smtp", smtp.url, "--poll-seconds", "3600") as runner:
        latencies = []
        for i in range(5):
            c = add_contact(db, f"u{i}@example.com")
            started = time.monotonic()
            db.execute("insert into drip.contact_tags values (%s, %s)", (c, t))
            assert smtp.wait_for(i + 1, timeout=15), runner.log
            latencies.append(smtp.handler.accept_times[i] - started)
    # Only a wake-up can explain delivery here: the poll is an hour away.
    assert max(latencies) < 5, latencies
    print(f"latency median {statistics.median(latencies):.3f}s max {max(latencies):.3f}s")


def test_sigterm_finishes_the_message_in_flight_and_hands_back_the_rest(dsn, db, smtp, tmp_home):
    """SIGTERM while a batch of 20 is leased and its first message is on the wire: that message
    is finished, the other 19 are handed back at once (not left to their lease), exit 0."""
    smtp.handler.stall_seconds = 2  # the server takes 2 s to answer each DATA
    add_sequence(db, "tag_added", None)
    add_contacts(db, 20, prefix="stall")
    tag_everyone(db, add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")
    runner = RunnerProcess(dsn, tmp_home, "--smtp", smtp.url, "--workers", "1", "--batch-size", "20")
    assert runner.wait_for_log("runner ", 20), runner.log
    deadline = time.monotonic() + 10
    while db.execute("select count(*) n from drip.outbox where status = 'sending'").fetchone()["n"] < 20:
        assert time.monotonic() < deadline, runner.log
        time.sleep(0.05)
    started = time.monotonic()
    assert runner.terminate() == 0, runner.log
    assert time.monotonic() - started < 10
    assert "runner stopped" in runner.log
    rows = db.execute("select status, attempts from drip.outbox").fetchall()
    assert sorted((r["status"], r["attempts"]) for r in rows) == [("queued", 0)] * 19 + [("sent", 1)]
    assert len(smtp.handler.messages) == 1


def test_recovers_when_its_connections_are_killed(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    t = add_tag(db, "x")
    with running(dsn, tmp_home, "--smtp", smtp.url, "--poll-seconds", "3600") as runner:
        time.sleep(0.5)
        killed = db.execute(
            "select count(pg_terminate_backend(pid)) n from pg_stat_activity "
            "where datname = current_database() and application_name like 'pgdrip%%'").fetchone()["n"]
        assert killed >= 2  # the LISTEN connection and at least one other
        assert runner.wait_for_log("listener: connection lost", 10), runner.log
        # wake-ups resume: a 0-hour step still arrives without waiting for the hour-long poll
        deadline = time.monotonic() + 20
        c = add_contact(db, "after@example.com")
        db.execute("insert into drip.contact_tags values (%s, %s)", (c, t))
        assert smtp.wait_for(1, timeout=deadline - time.monotonic()), runner.log


def test_two_runners_deliver_each_message_once(dsn, db, smtp, tmp_home):
    """The contacts are tagged only once both runners have dispatched and found nothing: what
    they send then, a wake-up or the poll found (on Citus, where nothing notifies from a shard,
    the 5-second poll; with the 300-second one this waited past 60 s whenever the runners'
    first dispatch came before the tagging)."""
    add_sequence(db, "tag_added", None)
    add_contacts(db, 400)
    t = add_tag(db, "x")
    args = ("--smtp", smtp.url, "--batch-size", "10", "--log-level", "debug")
    with running(dsn, tmp_home, *args) as first, running(dsn, tmp_home, *args) as second:
        for runner in (first, second):
            assert runner.wait_for_log("dispatch done", 30), runner.log
            assert "poll every 5s" in runner.log if ON_CITUS else "poll every 300s" in runner.log
        time.sleep(1)  # their listeners' first wake-up has come and gone too
        tag_everyone(db, t)
        assert smtp.wait_for(400, timeout=60), (first.log[-2000:], second.log[-2000:])
        time.sleep(0.5)
    ids = smtp.handler.message_ids()
    assert len(ids) == len(set(ids)) == 400
    assert db.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == 400


def test_runner_refuses_an_unmigrated_database_in_one_line(server_dsn, tmp_home):
    from tests.acceptance.cli import assert_one_line_error, pgdrip
    from tests.helpers import with_dbname

    with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
        conn.execute("drop database if exists drip_unmigrated")
        conn.execute("create database drip_unmigrated")
    try:
        r = pgdrip("run", "--once", dsn=with_dbname(server_dsn, "drip_unmigrated"), home=tmp_home)
        assert_one_line_error(r, "pgdrip migrate")
    finally:
        with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
            conn.execute("drop database if exists drip_unmigrated with (force)")


@not_on_citus(reason='Citus cannot add a trigger to a distributed table after it is laid out')
def test_run_once_sweeps_today_once_and_a_failed_sweep_keeps_the_day_open(dsn, db, tmp_home):
    from tests.acceptance.cli import pgdrip

    add_sequence(db, "anniversary", "birthday")
    today = db.execute("select (now() at time zone 'UTC')::date d").fetchone()["d"]
    add_contact(db, "bday@example.com", birthday=today.replace(year=1990) if (today.month, today.day) != (2, 29)
                else today.replace(year=1992))
    # a sweep that fails: the claim must roll back with it
    db.execute("create function drip.boom() returns trigger language plpgsql as "
               "$$ begin raise exception 'disk full'; end $$")
    db.execute("create trigger boom before insert on drip.enrollments execute function drip.boom()")
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home)
    assert "sweep failed" in r.stderr and "disk full" in r.stderr, r.stderr  # logged, with its cause
    assert db.execute("select count(*) n from drip.sweeps").fetchone()["n"] == 0, r.stderr
    db.execute("drop trigger boom on drip.enrollments")
    for _ in range(2):
        r = pgdrip("run", "--once", dsn=dsn, home=tmp_home)
        assert r.returncode == 0, r.stderr
    assert db.execute("select count(*) n from drip.sweeps where sweep_date = %s", (today,)).fetchone()["n"] == 1
    assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 1
    assert db.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == 1


def test_run_once_catches_up_the_days_it_missed(dsn, db, tmp_home):
    import datetime as dt

    from tests.acceptance.cli import pgdrip

    add_sequence(db, "anniversary", "birthday")
    today = db.execute("select (now() at time zone 'UTC')::date d").fetchone()["d"]
    for n in range(0, 6):
        add_contact(db, f"d{n}@example.com", birthday=(today - dt.timedelta(days=n)).replace(year=1992))
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (today - dt.timedelta(days=5),))
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home, env={"PGDRIP_SWEEP_CATCHUP_DAYS": "2"})
    assert r.returncode == 0, r.stderr
    horizon = db.execute("select (now() at time zone 'UTC' + interval '14 hours')::date d").fetchone()["d"]
    swept = [row["d"] for row in db.execute("select sweep_date d from drip.sweeps order by 1")]
    # 2 days back, today, and tomorrow once it has begun in UTC+14
    assert swept == [today - dt.timedelta(days=n) for n in (5, 2, 1, 0)] + ([horizon] if horizon > today else [])
    sent = sorted(row["to_address"] for row in db.execute("select to_address from drip.outbox where status = 'sent'"))
    assert sent == ["d0@example.com", "d1@example.com", "d2@example.com"]


@not_on_citus(reason="the poll is 5 s there: it would find the mail in time anyway")
def test_a_step_due_in_seconds_leaves_at_its_time_with_the_poll_an_hour_away(dsn, db, smtp, tmp_home):
    """The runner's dispatch notes when the next enrollment falls due, and it dispatches then.
    (An enrollment with a delayed first step made after that dispatch wakes nothing: it is found
    by the next dispatch, as README says.)"""
    add_sequence(db, "tag_added", None, steps=[(0, "now", "<p>now</p>"), (6 / 3600, "soon", "<p>soon</p>")])
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.contact_tags values (%s, %s)", (c, add_tag(db, "x")))
    with running(dsn, tmp_home, "--smtp", smtp.url, "--poll-seconds", "3600") as runner:
        assert smtp.wait_for(1, timeout=15), runner.log  # step 1 at once; step 2 is due 6 s after it
        sent = smtp.handler.accept_times[0]
        assert smtp.wait_for(2, timeout=20), runner.log
        assert 5 < smtp.handler.accept_times[1] - sent < 9


def test_a_batch_that_outlasts_half_its_lease_hands_the_rest_back(dsn, db, smtp, tmp_home):
    """Lease 10 s, 10 messages that take 1.5 s each: after 5 s the worker hands back what it has
    not sent (untried: attempts unchanged), and takes it again, so nothing waits for a lease."""
    smtp.handler.stall_seconds = 1.5
    add_sequence(db, "tag_added", None)
    add_contacts(db, 10, prefix="stall")
    tag_everyone(db, add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")
    with running(dsn, tmp_home, "--smtp", smtp.url, "--workers", "1", "--batch-size", "10", "--lease-seconds", "10",
                 "--poll-seconds", "3600") as runner:
        assert smtp.wait_for(10, timeout=60), runner.log
        time.sleep(0.5)
    stopped = [line for line in runner.log.splitlines() if "runner stopped" in line]
    released = int(stopped[0].rsplit("released ", 1)[1])
    assert released >= 5, runner.log  # handed back mid-batch: none were left to hand back at the stop
    assert db.execute("select array_agg(distinct status) s, max(attempts) a from drip.outbox").fetchone() == {
        "s": ["sent"], "a": 1}
