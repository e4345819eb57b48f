"""drip.forecast agrees with dispatch; drip.step_report is kept by counters; drip.prune deletes
history in committed batches and changes no behaviour."""

import datetime as dt

import psycopg
import pytest

from tests.helpers import (
    add_contact,
    add_contacts,
    add_sequence,
    add_tag,
    dispatch,
    enrollments,
    error_field,
    outbox,
    tag,
)

MONDAY = dt.datetime(2030, 1, 7, tzinfo=dt.UTC)


def report(db, seq: int) -> list[dict]:
    return db.execute("select step_order, queued, sent, failed, cancelled from drip.step_report "
                      "where sequence_id = %s order by step_order", (seq,)).fetchall()


def test_the_forecast_is_what_dispatch_then_does(db):
    berlin = add_sequence(db, "tag_added", "a", name="windowed", steps=[
        (0, "A", "<p>a</p>"), (24, "B", "<p>b</p>"), (30, "C", "<p>c</p>"), (10, "D", "<p>d</p>")])
    db.execute("update drip.sequence_steps set active = false where sequence_id = %s and step_order = 2", (berlin,))
    db.execute("update drip.sequences set time_zone = 'Europe/Berlin', send_window_start = '09:00', "
               "send_window_end = '17:00', send_days = '{1,2,3,4,5}' where id = %s", (berlin,))
    plain = add_sequence(db, "tag_added", "a", name="plain", steps=[(0, "P1", "<p>1</p>"), (48, "P2", "<p>2</p>")])
    asleep = add_sequence(db, "tag_added", "a", name="inactive", steps=[(0, "Z", "<p>z</p>")])
    t = add_tag(db, "a")
    for email, zone in (("la@example.com", "America/Los_Angeles"), ("tokyo@example.com", "Asia/Tokyo"),
                        ("none@example.com", None)):
        tag(db, add_contact(db, email, time_zone=zone), t)
    db.execute("update drip.sequences set active = false where id = %s", (asleep,))
    # everyone due at some point of the week to come (in the future: the forecast starts from now)
    # (from the epoch: Citus refuses a timestamptz + interval computed from a column in an UPDATE)
    db.execute("update drip.enrollments set next_step_due_at = to_timestamp(%s + (id %% 5) * 7 * 3600)",
               (MONDAY.timestamp(),))
    until = MONDAY + dt.timedelta(days=12)
    before = (outbox(db), enrollments(db))
    forecast = db.execute("select enrollment_id, step_id, due_at from drip.forecast(%s)", (until,)).fetchall()
    assert (outbox(db), enrollments(db)) == before  # writes nothing
    assert {f["step_id"] for f in forecast}.isdisjoint(
        {r["id"] for r in db.execute("select id from drip.sequence_steps where not active or sequence_id = %s",
                                     (asleep,))})
    replayed = []
    for moment in sorted({f["due_at"] for f in forecast}):
        seen = {o["id"] for o in outbox(db)}
        db.execute("call drip.dispatch_due(%s)", (moment,))
        replayed += [{"enrollment_id": o["enrollment_id"], "step_id": o["step_id"], "due_at": moment}
                     for o in outbox(db) if o["id"] not in seen]
    key = lambda r: (r["enrollment_id"], r["step_id"], r["due_at"])  # noqa: E731
    assert sorted(replayed, key=key) == sorted(forecast, key=key)
    assert len(forecast) == 3 * 3 + 3 * 2  # windowed: A, C, D; plain: P1, P2
    assert plain


def test_the_step_report_counts_every_state_and_does_not_read_the_outbox(db):
    seq = add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (1, "two", "<p>2</p>")])
    add_contacts(db, 4)
    db.execute("insert into drip.contact_tags select id, %s from drip.contacts", (add_tag(db, "x"),))
    dispatch(db)
    assert report(db, seq) == [{"step_order": 1, "queued": 4, "sent": 0, "failed": 0, "cancelled": 0},
                               {"step_order": 2, "queued": 0, "sent": 0, "failed": 0, "cancelled": 0}]
    ids = [r["id"] for r in db.execute("select id from drip.claim_outbox('r', 10, 60) order by contact_id")]
    db.execute("select drip.finish_outbox('r', %s, 'sent')", (ids[:2],))
    db.execute("select drip.finish_outbox('r', %s, 'failed', %s)", (ids[2:3], ["554 no"]))
    db.execute("select drip.finish_outbox('r', %s, 'release')", (ids[3:],))
    db.execute("update drip.contacts set unsubscribed_at = now() where email = 'u4@example.com'")
    assert report(db, seq)[0] == {"step_order": 1, "queued": 0, "sent": 2, "failed": 1, "cancelled": 1}
    db.execute("select drip.retry_outbox(%s)", (ids[2:3],))
    assert report(db, seq)[0] == {"step_order": 1, "queued": 1, "sent": 2, "failed": 0, "cancelled": 1}
    # folding the counters changes no total
    folded = db.execute("select drip.compact_step_stats() n").fetchone()["n"]
    assert folded > 2 and report(db, seq)[0] == {"step_order": 1, "queued": 1, "sent": 2, "failed": 0,
                                                 "cancelled": 1}
    assert db.execute("select count(*) n from drip.step_stats").fetchone()["n"] == 1
    plan = "\n".join(r["QUERY PLAN"] for r in db.execute("explain select * from drip.step_report"))
    assert "outbox" not in plan


def test_prune_deletes_old_history_only_and_the_report_keeps_its_counts(db):
    seq = add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (80000, "two", "<p>2</p>")])
    add_contacts(db, 6)
    db.execute("insert into drip.contact_tags select id, %s from drip.contacts", (add_tag(db, "x"),))
    dispatch(db)
    ids = [r["id"] for r in db.execute("select id from drip.claim_outbox('r', 4, 60) order by id")]
    db.execute("select drip.finish_outbox('r', %s, 'sent')", (ids,))  # 4 sent, 2 still queued
    db.execute("update drip.enrollments set status = 'completed', completed_at = now() - interval '200 days' "
               "where contact_id in (select contact_id from drip.outbox where id = any(%s))", (ids[:3],))
    db.execute("update drip.outbox set created_at = now() - interval '200 days' where id <> %s", (ids[3],))
    before = report(db, seq)
    db.execute("call drip.prune(interval '180 days')")
    assert sorted(o["status"] for o in outbox(db)) == ["queued", "queued", "sent"]  # old queued ones stay
    assert sorted(e["status"] for e in enrollments(db)) == ["active"] * 3
    assert report(db, seq) == before


def test_prune_changes_no_rule_never_stays_never_and_an_anniversary_stays_once_per_date(db):
    once = add_sequence(db, "after_purchase", None, steps=[(0, "thanks", "<p>t</p>")], name="once")
    db.execute("update drip.sequences set reentry = 'never' where id = %s", (once,))
    add_sequence(db, "anniversary", "birthday", name="bday")
    c = add_contact(db, "a@example.com", birthday="1990-03-14")
    db.execute("select drip.fire_trigger('after_purchase', %s)", (c,))
    db.execute("call drip.anniversary_sweep('2026-03-14')")
    dispatch(db, 100000)  # both complete
    db.execute("update drip.enrollments set completed_at = now() - interval '1 year'")
    db.execute("call drip.prune(interval '30 days')")
    assert enrollments(db) == []
    assert db.execute("select drip.fire_trigger('after_purchase', %s) n", (c,)).fetchone()["n"] == 0
    db.execute("call drip.anniversary_sweep('2026-03-14')")
    assert enrollments(db) == []
    db.execute("call drip.anniversary_sweep('2027-03-14')")  # next year's is a new date
    assert len(enrollments(db)) == 1


def test_prune_commits_batch_by_batch(dsn, db):
    """12,000 old rows go in three batches; when the first batch's progress is reported, another
    connection already sees its rows gone (so no batch holds its locks past its own commit)."""
    seq = add_sequence(db, "tag_added", None)
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, status, "
               "created_at) select g, %s, %s, 'a@example.com', 's', 'b', 'sent', now() - interval '1 year' "
               "from generate_series(1, 12000) g", (step, c))
    seen: list[int] = []
    with psycopg.connect(dsn, autocommit=True) as pruner, psycopg.connect(dsn, autocommit=True) as watcher:
        def on_progress(diag: psycopg.errors.Diagnostic) -> None:
            if "outbox rows deleted" in (diag.message_primary or ""):
                seen.append(watcher.execute("select count(*) from drip.outbox").fetchone()[0])

        pruner.add_notice_handler(on_progress)
        pruner.execute("call drip.prune()")
    assert seen[:3] == [7000, 2000, 0]
    assert outbox(db) == []


def test_prune_goes_by_time_not_by_id_order(db):
    """5,000 young rows come first in id order, then old ones (on Citus ids come from each node's
    own range, so id order says nothing about time). The walk by id stopped at the first batch
    made of young rows and kept the old ones; by time, every old row goes and no young one."""
    seq = add_sequence(db, "tag_added", None)
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    c = add_contact(db, "a@example.com")
    rows = ("insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, status, "
            "created_at) select g, %s, %s, 'a@example.com', 's', 'b', 'sent', now() - %s::interval "
            "from generate_series(%s::int, %s::int) g")
    db.execute(rows, (step, c, "1 day", 1, 5000))
    db.execute(rows, (step, c, "1 year", 5001, 5100))
    clicks = ("insert into drip.clicks (contact_id, enrollment_id, step_id, link_no, method, clicked_at) "
              "select %s, 1, %s, 1, 'GET', now() - %s::interval from generate_series(1, %s::int)")
    db.execute(clicks, (c, step, "1 day", 5000))
    db.execute(clicks, (c, step, "1 year", 100))
    db.execute("call drip.prune(interval '180 days')")
    assert db.execute("select count(*) n, min(enrollment_id) lo, max(enrollment_id) hi from drip.outbox"
                      ).fetchone() == {"n": 5000, "lo": 1, "hi": 5000}
    assert db.execute("select count(*) n from drip.clicks where clicked_at < now() - interval '180 days'"
                      ).fetchone()["n"] == 0
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 5000


def test_prune_refuses_an_age_under_a_day(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        db.execute("call drip.prune(interval '2 hours')")
    assert error_field(err.value.diag) == "p_older_than"


def test_forecast_and_report_have_the_contracts_columns(db):
    add_sequence(db, "tag_added", None)
    tag(db, add_contact(db, "a@example.com"), add_tag(db, "x"))
    [row] = db.execute("select * from drip.forecast(now() + interval '1 day')").fetchall()
    assert list(row) == ["enrollment_id", "contact_id", "sequence_id", "step_id", "step_order", "due_at"]
    [row] = db.execute("select * from drip.step_report").fetchall()
    assert list(row) == ["sequence_id", "step_id", "step_order", "queued", "sent", "failed", "cancelled", "clicks",
                         "bot_clicks", "unique_clickers", "unsubscribes", "skipped", "cap_deferred",
                         "topic_unsubscribes", "held_out"]
