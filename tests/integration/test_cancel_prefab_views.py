"""cancel_enrollment, create_sequence_from_prefab and the two overview views."""

import pytest

from tests.helpers import add_contact, add_sequence, add_tag, dispatch, enrollments, outbox, tag


def test_cancel_returns_whether_it_was_active_and_stops_mail(db):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "b"), (1, "two", "b")])
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "x"))
    [e] = enrollments(db)
    db.execute("select drip.dispatch_batch(now(), 10)")
    db.execute("update drip.outbox set status = 'queued'")
    assert db.execute("select drip.cancel_enrollment(%s) r", (e["id"],)).fetchone()["r"] is True
    assert db.execute("select drip.cancel_enrollment(%s) r", (e["id"],)).fetchone()["r"] is False
    assert [o["status"] for o in outbox(db)] == ["cancelled"]
    dispatch(db, 10)
    assert len(outbox(db)) == 1 and enrollments(db)[0]["status"] == "cancelled"


@pytest.mark.parametrize("prefab,trigger,value,delays", [
    ("birthday", "anniversary", "birthday", [0]),
    ("welcome", "tag_added", "welcome", [0, 24, 144]),
    ("post_purchase", "after_purchase", None, [0, 72]),
])
def test_prefabs(db, prefab, trigger, value, delays):
    sid = db.execute("select drip.create_sequence_from_prefab(%s) id", (prefab,)).fetchone()["id"]
    s = db.execute("select * from drip.sequences where id = %s", (sid,)).fetchone()
    assert (s["trigger_type"], s["trigger_value"], s["active"]) == (trigger, value, True)
    steps = db.execute(
        "select delay_hours, subject, html_body from drip.sequence_steps where sequence_id = %s order by step_order",
        (sid,)).fetchall()
    assert [float(st["delay_hours"]) for st in steps] == delays
    assert all("{{FirstName" in st["subject"] + st["html_body"] for st in steps)


def test_prefab_takes_a_name_and_trigger_value(db):
    sid = db.execute("select drip.create_sequence_from_prefab('post_purchase', 'Books', 'book-1') id").fetchone()["id"]
    s = db.execute("select name, trigger_value from drip.sequences where id = %s", (sid,)).fetchone()
    assert s == {"name": "Books", "trigger_value": "book-1"}


def test_overview_views(db):
    seq = add_sequence(db, "tag_added", "vip", steps=[(0, "a", "b"), (1, "c", "d")], name="VIP")
    db.execute("update drip.sequence_steps set active = false where step_order = 2")
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "vip"))
    row = db.execute("select * from drip.sequence_overview where id = %s", (seq,)).fetchone()
    assert row == {"id": seq, "name": "VIP", "trigger_type": "tag_added", "trigger_value": "vip",
                   "step_count": 1, "active_enrollments": 1, "active": True}
    e = db.execute("select * from drip.enrollment_overview").fetchone()
    assert (e["sequence"], e["contact_email"], e["status"], e["last_step_order_sent"]) == (
        "VIP", "a@example.com", "active", 0)
    assert e["next_step_due_at"] is not None
