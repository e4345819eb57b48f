"""Behaviour 20: a step with wait_for_event is due at the earlier of its usual due time and the
moment a matching event happens after the previous step was sent; a branch is two steps with
opposite send_if."""

import json

import psycopg

from tests.helpers import add_contact, add_sequence, add_tag, dispatch, enrollments, outbox, tag


def trial_sequence(db) -> int:
    """The README's trial onboarding: welcome, then wait up to 72 h for `activated`, then branch."""
    seq = add_sequence(db, "event", "trial_started", steps=[
        (0, "welcome", "<p>welcome</p>"),
        (72, "tips for active users", "<p>a</p>"),
        (0, "need a hand?", "<p>b</p>"),
    ])
    db.execute("update drip.sequence_steps set wait_for_event = 'Activated', send_if = %s "
               "where sequence_id = %s and step_order = 2", (json.dumps({"event": "activated"}), seq))
    db.execute("update drip.sequence_steps set send_if = %s where sequence_id = %s and step_order = 3",
               (json.dumps({"not": {"event": "activated"}}), seq))
    return seq


def event(db, contact_id: int, name: str, key: str | None = None, at: str = "now()") -> None:
    db.execute(f"insert into drip.events (contact_id, name, key, occurred_at) values (%s, %s, %s, {at})",
               (contact_id, name, key))


def test_the_event_ends_the_wait_in_the_writers_transaction(db):
    trial_sequence(db)
    ada = add_contact(db, "ada@example.com")
    event(db, ada, "trial_started")
    dispatch(db)                      # welcome sent; the next step waits up to 72 h
    [e] = enrollments(db)
    waiting_until = e["next_step_due_at"]
    with db.transaction(force_rollback=True):
        event(db, ada, "activated", at="now() + interval '1 minute'")
        assert enrollments(db)[0]["next_step_due_at"] < waiting_until
    assert enrollments(db)[0]["next_step_due_at"] == waiting_until
    event(db, ada, "activated", at="now() + interval '1 minute'")
    moved = enrollments(db)[0]["next_step_due_at"]
    assert db.execute("select %s::timestamptz = (select occurred_at from drip.events where name = 'activated') ok",
                      (moved,)).fetchone()["ok"]
    dispatch(db, 0.1)
    dispatch(db, 0.2)                 # the branch: the other step skips
    assert [r["subject"] for r in outbox(db)] == ["welcome", "tips for active users"]
    assert enrollments(db)[0]["status"] == "completed"


def test_without_the_event_the_step_falls_due_after_its_delay(db):
    trial_sequence(db)
    ada = add_contact(db, "ada@example.com")
    event(db, ada, "trial_started")
    dispatch(db)
    dispatch(db, 71)
    assert [r["subject"] for r in outbox(db)] == ["welcome"]
    dispatch(db, 72.1)
    dispatch(db, 72.2)
    assert [r["subject"] for r in outbox(db)] == ["welcome", "need a hand?"]


def test_an_event_before_the_previous_step_was_sent_does_not_end_the_wait(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(10, "one", "<p>1</p>"), (48, "two", "<p>2</p>")])
    db.execute("update drip.sequence_steps set wait_for_event = 'activated' where sequence_id = %s and step_order = 2",
               (seq,))
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    event(db, ada, "activated")       # step 2's wait has not begun: step 1 is not sent yet
    due_1 = enrollments(db)[0]["next_step_due_at"]
    dispatch(db, 10.5)
    [e] = enrollments(db)
    assert e["last_step_order_sent"] == 1 and e["next_step_due_at"] > due_1
    assert db.execute("select next_step_due_at - last_step_sent_at = interval '48 hours' ok from drip.enrollments"
                      ).fetchone()["ok"]


def test_a_wait_for_step_one_starts_at_enrollment(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(48, "one", "<p>1</p>")])
    db.execute("update drip.sequence_steps set wait_for_event = 'activated' where sequence_id = %s", (seq,))
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    event(db, ada, "activated")
    dispatch(db, 0.01)
    assert [r["subject"] for r in outbox(db)] == ["one"]


def test_a_keyed_event_ends_only_the_waits_of_its_key(db):
    seq = add_sequence(db, "event", "cart_abandoned", steps=[(0, "seen", "<p>1</p>"), (48, "paid?", "<p>2</p>")])
    db.execute("update drip.sequence_steps set wait_for_event = 'payment' where sequence_id = %s and step_order = 2",
               (seq,))
    ada = add_contact(db, "ada@example.com")
    for key in ("c1", "c2"):
        event(db, ada, "cart_abandoned", key)
    dispatch(db)
    event(db, ada, "payment", "c1")
    due = {r["event_key"]: r["next_step_due_at"] for r in enrollments(db)}
    assert due["c1"] < due["c2"]
    event(db, ada, "payment")         # keyless: every wait
    due = {r["event_key"]: r["next_step_due_at"] for r in enrollments(db)}
    assert db.execute("select %s::timestamptz < now() + interval '1 hour' ok", (due["c2"],)).fetchone()["ok"]


def test_the_wait_ends_inside_the_send_window(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (48, "two", "<p>2</p>")])
    db.execute("update drip.sequences set send_window_start = '09:00', send_window_end = '10:00', "
               "time_zone = 'UTC' where id = %s", (seq,))
    db.execute("update drip.sequence_steps set wait_for_event = 'activated' where sequence_id = %s and step_order = 2",
               (seq,))
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    due = enrollments(db)[0]["next_step_due_at"]
    db.execute("call drip.dispatch_due(%s)", (due,))
    # step 1 went at 09:00; an event at 03:00 the next day makes step 2 due at 09:00 that day
    sent_at = enrollments(db)[0]["last_step_sent_at"]
    db.execute("insert into drip.events (contact_id, name, occurred_at) values (%s, 'activated', "
               "%s::timestamptz + interval '18 hours')", (ada, sent_at))
    assert db.execute("select next_step_due_at = last_step_sent_at + interval '24 hours' ok from drip.enrollments"
                      ).fetchone()["ok"]


def test_many_events_end_many_waits_in_one_statement(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (48, "two", "<p>2</p>")])
    db.execute("update drip.sequence_steps set wait_for_event = 'activated' where sequence_id = %s and step_order = 2",
               (seq,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 200) g")
    go = add_tag(db, "go")
    db.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts", (go,))
    dispatch(db)
    db.execute("insert into drip.events (contact_id, name) select id, 'activated' from drip.contacts where id % 2 = 0")
    dispatch(db, 0.1)
    assert db.execute("select count(*) n from drip.outbox where subject = 'two'").fetchone()["n"] == 100


def test_a_bad_wait_name_is_refused(db):
    seq = add_sequence(db, "tag_added", "go")
    for bad in ("", "   ", "a\nb", "x" * 201):
        try:
            db.execute("update drip.sequence_steps set wait_for_event = %s where sequence_id = %s", (bad, seq))
        except psycopg.errors.InvalidParameterValue as exc:
            assert exc.diag.column_name == "wait_for_event" or "wait_for_event" in (exc.diag.message_detail or "")
        else:
            raise AssertionError(f"{bad!r} was accepted")
