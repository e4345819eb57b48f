"""Behaviour 6: unsubscribing cancels enrollments and queued mail in the same transaction."""

import threading

import psycopg

from tests.helpers import (
    add_contact,
    add_sequence,
    add_tag,
    dispatch,
    enrollments,
    not_on_citus,
    outbox,
    tag,
    tag_everyone,
    wait_until_blocked,
)


def test_unsubscribe_cancels_enrollments_and_queued_mail_atomically(db):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "b"), (1, "two", "b")], name="a")
    add_sequence(db, "tag_added", None, steps=[(5, "later", "b")], name="b")
    c = add_contact(db, "a@example.com")
    other = add_contact(db, "b@example.com")
    t = add_tag(db, "x")
    tag(db, c, t)
    tag(db, other, t)
    dispatch(db)
    with db.transaction():
        db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (c,))
        mine = [e["status"] for e in enrollments(db) if e["contact_id"] == c]
        assert mine == ["cancelled", "cancelled"]
        assert {o["status"] for o in outbox(db) if o["contact_id"] == c} == {"cancelled"}
    assert {o["status"] for o in outbox(db) if o["contact_id"] == other} == {"queued"}
    dispatch(db, 100)
    assert all(o["contact_id"] != c for o in outbox(db) if o["status"] == "queued")


def test_cancelled_enrollment_never_queues_again_even_after_resubscribing(db):
    add_sequence(db, "tag_added", None, steps=[(1, "one", "b")])
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "x"))
    db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (c,))
    db.execute("update drip.contacts set unsubscribed_at = null where id = %s", (c,))
    dispatch(db, 10)
    assert outbox(db) == []


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_unsubscribe_racing_a_dispatcher_leaves_nothing_queued(dsn, db):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "b")])
    ids = [add_contact(db, f"u{i}@example.com") for i in range(200)]
    t = add_tag(db, "x")
    tag_everyone(db, t)
    with psycopg.connect(dsn) as holder:
        # a dispatcher in flight: it holds the enrollments and is about to commit outbox rows
        holder.execute("select drip.dispatch_batch(now(), 1000)")
        done = threading.Event()

        def unsubscribe() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("update drip.contacts set unsubscribed_at = now() where id = any(%s)", (ids[:100],))
            done.set()

        th = threading.Thread(target=unsubscribe)
        th.start()
        wait_until_blocked(db, "set unsubscribed_at = now()")  # on the dispatcher's row locks
        assert not done.is_set()
        holder.commit()
        th.join(10)
    queued = db.execute(
        "select count(*) n from drip.outbox where status = 'queued' and contact_id = any(%s)", (ids[:100],)
    ).fetchone()["n"]
    assert queued == 0
    assert db.execute("select count(*) n from drip.outbox where status = 'queued'").fetchone()["n"] == 100
