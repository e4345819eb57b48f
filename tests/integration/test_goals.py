"""Behaviours 12 and 13: goals end enrollments as 'exited' in the writer's transaction, and
re-entry decides whether an event enrolls a contact again."""

import threading

import psycopg
import pytest

from tests.helpers import (
    add_contact,
    add_contacts,
    add_sequence,
    add_tag,
    dispatch,
    enrollments,
    not_on_citus,
    outbox,
    tag,
    wait_until_blocked,
)

STEPS = [(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>"), (24, "three", "<p>3</p>")]


def with_goal(db, exit_type: str, exit_value: str | None, trigger=("tag_added", "trial"), active=True) -> int:
    seq = add_sequence(db, *trigger, steps=STEPS, name="nurture", active=active)
    db.execute("update drip.sequences set exit_trigger_type = %s, exit_trigger_value = %s where id = %s",
               (exit_type, exit_value, seq))
    return seq


def status_of(db, contact: int) -> dict:
    return db.execute("select status, exited_at, next_step_due_at from drip.enrollments where contact_id = %s",
                      (contact,)).fetchone()


def test_a_tag_goal_exits_the_enrollment_and_cancels_its_queued_mail_in_the_same_transaction(db):
    with_goal(db, "tag_added", "Paid")
    c, other = add_contact(db, "a@example.com"), add_contact(db, "b@example.com")
    trial = add_tag(db, "trial")
    tag(db, c, trial)
    tag(db, other, trial)
    dispatch(db)  # both have step one queued
    paid = add_tag(db, "paid")
    with db.transaction():
        tag(db, c, paid)  # the goal's value matches case-insensitively, as a tag trigger does
        row = status_of(db, c)
        assert row["status"] == "exited" and row["exited_at"] is not None and row["next_step_due_at"] is None
        assert {o["status"] for o in outbox(db) if o["contact_id"] == c} == {"cancelled"}
    assert status_of(db, other)["status"] == "active"
    assert {o["status"] for o in outbox(db) if o["contact_id"] == other} == {"queued"}
    dispatch(db, 100)
    assert all(o["contact_id"] != c for o in outbox(db) if o["status"] == "queued")
    assert db.execute("select status from drip.enrollment_overview where contact_id = %s",
                      (c,)).fetchone()["status"] == "exited"


def test_a_goal_is_reached_whether_or_not_the_sequence_is_active(db):
    seq = with_goal(db, "after_purchase", None)
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "trial"))
    db.execute("update drip.sequences set active = false where id = %s", (seq,))
    db.execute("insert into drip.purchases (contact_id, product_id, status) values (%s, 'p1', 'pending')", (c,))
    assert status_of(db, c)["status"] == "active"  # pending is not a purchase yet
    db.execute("update drip.purchases set status = 'confirmed'")
    assert status_of(db, c)["status"] == "exited"


@pytest.mark.parametrize("exit_type,exit_value,event", [
    ("group_added", None, "group"),
    ("after_first_click", "77", "click"),
    ("after_purchase", "pro", "purchase"),
])
def test_each_event_type_can_be_a_goal(db, exit_type, exit_value, event):
    with_goal(db, exit_type, exit_value)
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "trial"))
    if event == "group":
        g = db.execute("insert into drip.groups (name) values ('vip') returning id").fetchone()["id"]
        db.execute("insert into drip.group_members values (%s, %s)", (g, c))
    elif event == "click":
        db.execute("insert into drip.link_clicks (contact_id, mailing_id) values (%s, 12)", (c,))  # another mailing
        assert status_of(db, c)["status"] == "active"
        db.execute("insert into drip.link_clicks (contact_id, mailing_id) values (%s, 77)", (c,))
    else:
        db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'basic')", (c,))
        assert status_of(db, c)["status"] == "active"
        db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'pro')", (c,))
    assert status_of(db, c)["status"] == "exited"


def test_fire_trigger_reaches_goals_too(db):
    with_goal(db, "after_purchase", None)
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "trial"))
    db.execute("select drip.fire_trigger('after_purchase', %s, 'from-my-shop')", (c,))
    assert status_of(db, c)["status"] == "exited"


def test_one_bulk_purchase_import_exits_every_matching_enrollment(db):
    with_goal(db, "after_purchase", None)
    add_contacts(db, 3000)
    db.execute("insert into drip.contact_tags select id, %s from drip.contacts", (add_tag(db, "trial"),))
    dispatch(db)
    db.execute("insert into drip.purchases (contact_id, product_id) select id, 'x' from drip.contacts "
               "where id % 3 <> 0")
    counts = {r["status"]: r["n"] for r in db.execute(
        "select status, count(*) n from drip.enrollments group by status")}
    assert counts == {"exited": 2000, "active": 1000}
    assert db.execute("select count(*) n from drip.outbox where status = 'cancelled' "
                      "and last_error like '%%goal%%'").fetchone()["n"] == 2000


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_a_goal_racing_a_dispatch_queues_nothing_after_the_exit(dsn, db):
    """A dispatcher holds the enrollments and is about to commit step one for everyone; a bulk
    goal event arrives, waits for it, and then cancels what it queued."""
    with_goal(db, "tag_added", "paid")
    ids = [add_contact(db, f"u{i}@example.com") for i in range(200)]
    db.execute("insert into drip.contact_tags select id, %s from drip.contacts", (add_tag(db, "trial"),))
    paid = add_tag(db, "paid")
    with psycopg.connect(dsn) as dispatcher:
        dispatcher.execute("select drip.dispatch_batch(now(), 1000)")
        done = threading.Event()

        def reach_goal() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("insert into drip.contact_tags select unnest(%s::bigint[]), %s", (ids[:100], paid))
            done.set()

        th = threading.Thread(target=reach_goal)
        th.start()
        wait_until_blocked(db, "insert into drip.contact_tags")
        assert not done.is_set()
        dispatcher.commit()
        th.join(10)
    assert done.is_set()
    queued = db.execute("select count(*) n from drip.outbox where status = 'queued' and contact_id = any(%s)",
                        (ids[:100],)).fetchone()["n"]
    assert queued == 0
    assert db.execute("select count(*) n from drip.enrollments where status = 'exited'").fetchone()["n"] == 100
    assert db.execute("select count(*) n from drip.outbox where status = 'queued'").fetchone()["n"] == 100


# --- re-entry -----------------------------------------------------------------------------------

def test_after_completion_a_new_event_enrolls_again_once_the_previous_enrollment_ended(db):
    add_sequence(db, "after_purchase", None, steps=[(0, "thanks", "<p>t</p>")])
    c = add_contact(db, "a@example.com")
    db.execute("select drip.fire_trigger('after_purchase', %s)", (c,))
    assert db.execute("select drip.fire_trigger('after_purchase', %s) n", (c,)).fetchone()["n"] == 0  # active
    dispatch(db)  # completes
    assert db.execute("select drip.fire_trigger('after_purchase', %s) n", (c,)).fetchone()["n"] == 1
    assert [e["status"] for e in enrollments(db)] == ["completed", "active"]


def test_never_enrolls_a_contact_at_most_once_ever(db):
    seq = add_sequence(db, "after_purchase", None, steps=[(0, "thanks", "<p>t</p>")])
    db.execute("update drip.sequences set reentry = 'never' where id = %s", (seq,))
    c = add_contact(db, "a@example.com")
    db.execute("select drip.fire_trigger('after_purchase', %s)", (c,))
    dispatch(db)
    assert db.execute("select drip.fire_trigger('after_purchase', %s) n", (c,)).fetchone()["n"] == 0
    db.execute("insert into drip.purchases (contact_id) select id from drip.contacts")
    db.execute("update drip.enrollments set status = 'cancelled'")
    assert db.execute("select drip.fire_trigger('after_purchase', %s) n", (c,)).fetchone()["n"] == 0
    assert len(enrollments(db)) == 1


def test_never_on_an_anniversary_means_one_year_only(db):
    seq = add_sequence(db, "anniversary", "birthday")
    db.execute("update drip.sequences set reentry = 'never' where id = %s", (seq,))
    add_contact(db, "a@example.com", birthday="1990-03-14")
    db.execute("call drip.anniversary_sweep('2027-03-14')")
    db.execute("update drip.enrollments set status = 'completed'")
    db.execute("call drip.anniversary_sweep('2028-03-14')")
    assert [str(e["occurrence"]) for e in enrollments(db)] == ["2027-03-14"]


def test_an_event_that_is_both_goal_and_trigger_ends_the_old_enrollment_and_starts_a_fresh_one(db):
    seq = add_sequence(db, "after_purchase", None, steps=STEPS)
    db.execute("update drip.sequences set exit_trigger_type = 'after_purchase' where id = %s", (seq,))
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'one')", (c,))
    db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'two')", (c,))
    assert [e["status"] for e in enrollments(db)] == ["exited", "active"]
