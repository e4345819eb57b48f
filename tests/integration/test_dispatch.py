"""Behaviour 3 and 4: what dispatch_due queues, advances and completes."""

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
    tag_everyone,
)

STEPS = [(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>"), (48, "three", "<p>3</p>")]


def enrolled(db, steps=STEPS):
    seq = add_sequence(db, "tag_added", None, steps=steps)
    c = add_contact(db, "a@example.com", "Ada")
    tag(db, c, add_tag(db, "x"))
    return seq, c


def test_one_step_per_call_and_next_due_from_the_send(db):
    enrolled(db)
    db.execute("call drip.dispatch_due('2030-01-01 00:00+00')")
    [e] = enrollments(db)
    assert [o["subject"] for o in outbox(db)] == ["one"]
    assert e["last_step_order_sent"] == 1
    assert e["last_step_sent_at"].isoformat() == "2030-01-01T00:00:00+00:00"
    assert e["next_step_due_at"].isoformat() == "2030-01-02T00:00:00+00:00"
    db.execute("call drip.dispatch_due('2030-01-01 23:59+00')")
    assert len(outbox(db)) == 1  # not yet due
    db.execute("call drip.dispatch_due('2030-01-05 00:00+00')")
    assert [o["subject"] for o in outbox(db)] == ["one", "two"]  # one step per call, even if late
    assert enrollments(db)[0]["next_step_due_at"].isoformat() == "2030-01-07T00:00:00+00:00"


def test_zero_delay_steps_still_go_one_per_call(db):
    enrolled(db, [(0, "one", "b"), (0, "two", "b")])
    dispatch(db)
    assert [o["subject"] for o in outbox(db)] == ["one"]
    dispatch(db, 0.001)
    assert [o["subject"] for o in outbox(db)] == ["one", "two"]


def test_last_step_completes_in_the_same_call(db):
    enrolled(db, [(0, "one", "b")])
    dispatch(db)
    [e] = enrollments(db)
    assert e["status"] == "completed" and e["completed_at"] is not None and e["next_step_due_at"] is None
    dispatch(db, 1000)
    assert len(outbox(db)) == 1


def test_inactive_steps_are_skipped_and_delay_comes_from_the_next_active_step(db):
    seq, _ = enrolled(db)
    db.execute("update drip.sequence_steps set active = false where sequence_id = %s and step_order = 2", (seq,))
    db.execute("call drip.dispatch_due('2030-01-01 00:00+00')")
    e = enrollments(db)[0]
    assert e["next_step_due_at"].isoformat() == "2030-01-03T00:00:00+00:00"
    db.execute("call drip.dispatch_due('2030-01-03 00:00+00')")
    assert [o["subject"] for o in outbox(db)] == ["one", "three"]
    assert enrollments(db)[0]["status"] == "completed"


def test_sequence_without_active_steps_completes_without_sending(db):
    seq, _ = enrolled(db, [(0, "one", "b")])
    db.execute("delete from drip.enrollments")
    db.execute("update drip.sequence_steps set active = false where sequence_id = %s", (seq,))
    c2 = add_contact(db, "b@example.com")
    db.execute("select drip.fire_trigger('tag_added', %s, 'x')", (c2,))
    dispatch(db)
    assert [e["status"] for e in enrollments(db)] == ["completed"]
    assert outbox(db) == []


def test_inactive_sequence_does_not_advance_until_active_again(db):
    seq, _ = enrolled(db)
    db.execute("update drip.sequences set active = false where id = %s", (seq,))
    dispatch(db, 1)
    assert outbox(db) == []
    db.execute("update drip.sequences set active = true where id = %s", (seq,))
    dispatch(db, 1)
    assert len(outbox(db)) == 1


def test_edited_sequence_existing_continue_new_use_latest_steps(db):
    seq, c = enrolled(db)
    dispatch(db)
    db.execute("update drip.sequence_steps set subject = 'two (edited)' where sequence_id = %s and step_order = 2",
               (seq,))
    db.execute("delete from drip.sequence_steps where sequence_id = %s and step_order = 1", (seq,))
    c2 = add_contact(db, "b@example.com")
    db.execute("select drip.fire_trigger('tag_added', %s, 'x')", (c2,))
    dispatch(db, 25)
    subjects = {(o["contact_id"], o["subject"]) for o in outbox(db)}
    assert (c, "two (edited)") in subjects  # continued from last_step_order_sent = 1
    assert (c2, "two (edited)") in subjects  # the new enrollment starts at the first current step
    assert len(outbox(db)) == 3


def test_outbox_row_is_unique_per_enrollment_and_step(db):
    enrolled(db)
    dispatch(db)
    row = outbox(db)[0]
    with pytest.raises(Exception, match="outbox_enrollment_step"):
        db.execute(
            "insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body) "
            "values (%s, %s, %s, 'x@example.com', 's', 'b')",
            (row["enrollment_id"], row["step_id"], row["contact_id"]),
        )


def test_rewound_enrollment_does_not_queue_a_step_twice(db):
    seq, c = enrolled(db)
    dispatch(db)
    other = add_contact(db, "b@example.com")
    tag(db, other, add_tag(db, "y"))
    db.execute("update drip.enrollments set last_step_order_sent = 0, last_step_sent_at = null, "
               "next_step_due_at = now() - interval '1 minute' where contact_id = %s", (c,))
    dispatch(db)
    rows = db.execute("select contact_id, count(*) n from drip.outbox group by contact_id order by 1").fetchall()
    assert [(r["contact_id"], r["n"]) for r in rows] == [(c, 1), (other, 1)]
    rewound = next(e for e in enrollments(db) if e["contact_id"] == c)
    assert (rewound["sequence_id"], rewound["last_step_order_sent"], rewound["status"]) == (seq, 1, "active")


def test_dispatch_notifies_drip_outbox_once_per_batch(dsn, db):
    import psycopg

    enrolled(db)
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen drip_outbox")
        dispatch(db)
        got = list(listener.notifies(timeout=1))
    assert [n.channel for n in got] == ["drip_outbox"]


def test_many_due_enrollments_across_batches(db):
    seq = add_sequence(db, "tag_added", None, steps=[(0, "one", "b"), (1, "two", "b")])
    add_contacts(db, 2500)
    t = add_tag(db, "x")
    tag_everyone(db, t)
    dispatch(db)
    counts = db.execute("select count(*) n, count(distinct enrollment_id) e from drip.outbox").fetchone()
    assert counts == {"n": 2500, "e": 2500}
    assert db.execute(
        "select count(*) n from drip.enrollments where sequence_id = %s and last_step_order_sent = 1", (seq,)
    ).fetchone()["n"] == 2500


@not_on_citus(reason="each shard's batch starts at its front there: no cursor")
def test_batches_walk_the_due_index_with_a_cursor(db):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "b"), (1, "two", "b")])
    add_contacts(db, 5)
    tag_everyone(db, add_tag(db, "x"))
    due_order = db.execute("select id from drip.enrollments order by next_step_due_at, id").fetchall()
    first = db.execute("select * from drip.dispatch_batch(now(), 2)").fetchone()
    second = db.execute("select * from drip.dispatch_batch(now(), 2, %s, %s)",
                        (first["last_due"], first["last_id"])).fetchone()
    last = db.execute("select * from drip.dispatch_batch(now(), 2, %s, %s)",
                      (second["last_due"], second["last_id"])).fetchone()
    assert [first["claimed"], second["claimed"], last["claimed"]] == [2, 2, 1]
    # each batch stopped at the 2nd, 4th and 5th due enrollment, in due-index order
    assert [first["last_id"], second["last_id"], last["last_id"]] == [due_order[i]["id"] for i in (1, 3, 4)]
    queued = db.execute("select count(*) n, count(distinct enrollment_id) e from drip.outbox").fetchone()
    assert queued == {"n": 5, "e": 5}
