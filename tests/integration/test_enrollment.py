"""Behaviour 1 and 2, and the five triggers: who enrolls, when step 1 is due."""

import psycopg
import pytest

from tests.helpers import (
    add_contact,
    add_contacts,
    add_sequence,
    add_tag,
    enrollments,
    error_field,
    not_on_citus,
    tag,
    tag_everyone,
)


def test_tag_enrolls_in_the_writers_transaction_with_step_one_due_after_its_delay(db):
    seq = add_sequence(db, "tag_added", "VIP", steps=[(2, "a", "b"), (5, "c", "d")])
    c = add_contact(db, "a@example.com")
    t = add_tag(db, "vip")
    with db.transaction():
        tag(db, c, t)
        [e] = enrollments(db)
        assert (e["sequence_id"], e["contact_id"], e["status"]) == (seq, c, "active")
    delay = db.execute("select next_step_due_at - enrolled_at as d from drip.enrollments").fetchone()["d"]
    assert delay.total_seconds() == pytest.approx(2 * 3600, abs=1)


def test_rolled_back_write_leaves_no_enrollment(db):
    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    t = add_tag(db, "x")
    with pytest.raises(RuntimeError):
        with db.transaction():
            tag(db, c, t)
            raise RuntimeError
    assert enrollments(db) == []


def test_any_and_value_scoped_sequences_both_fire_and_others_do_not(db):
    any_seq = add_sequence(db, "tag_added", None, name="any")
    vip = add_sequence(db, "tag_added", "vip", name="vip")
    add_sequence(db, "tag_added", "other", name="other")
    add_sequence(db, "tag_added", "vip", name="inactive", active=False)
    add_sequence(db, "group_added", None, name="groups")
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "ViP"))
    assert sorted(e["sequence_id"] for e in enrollments(db)) == sorted([any_seq, vip])


def test_repeated_event_is_a_no_op(db):
    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    t1, t2 = add_tag(db, "x"), add_tag(db, "y")
    tag(db, c, t1)
    tag(db, c, t2)
    assert db.execute("select drip.fire_trigger('tag_added', %s, 'x') as n", (c,)).fetchone()["n"] == 0
    assert len(enrollments(db)) == 1


def test_unsubscribed_contact_enrolls_nowhere(db):
    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com", unsubscribed_at="2026-01-01")
    tag(db, c, add_tag(db, "x"))
    assert enrollments(db) == []


def test_bulk_insert_select_enrolls_every_row_once(db):
    add_sequence(db, "tag_added", "bulk", name="one")
    add_sequence(db, "tag_added", None, name="two")
    add_contacts(db, 2000)
    t = add_tag(db, "bulk")
    tag_everyone(db, t)
    row = db.execute(
        "select count(*) n, count(distinct (sequence_id, contact_id)) d from drip.enrollments"
    ).fetchone()
    assert row == {"n": 4000, "d": 4000}


def test_two_matching_tags_in_one_statement_enroll_once(db):
    any_seq = add_sequence(db, "tag_added", None)
    c1, c2 = add_contact(db, "a@example.com"), add_contact(db, "b@example.com")
    t1, t2 = add_tag(db, "x"), add_tag(db, "y")
    db.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s), (%s, %s), (%s, %s)",
               (c1, t1, c1, t2, c2, t2))
    assert sorted((e["sequence_id"], e["contact_id"]) for e in enrollments(db)) == [(any_seq, c1), (any_seq, c2)]


def test_bulk_event_over_partly_enrolled_contacts_adds_only_the_rest(db):
    add_sequence(db, "tag_added", None)
    add_contacts(db, 1000)
    early = add_tag(db, "early")
    db.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts where id %% 3 = 0",
               (early,))
    before = len(enrollments(db))
    tag_everyone(db, add_tag(db, "late"))
    row = db.execute("select count(*) n, count(distinct contact_id) d from drip.enrollments").fetchone()
    assert before == 333 and row == {"n": 1000, "d": 1000}


def test_group_added_matches_group_id(db):
    g1 = db.execute("insert into drip.groups (name) values ('g1') returning id").fetchone()["id"]
    g2 = db.execute("insert into drip.groups (name) values ('g2') returning id").fetchone()["id"]
    seq = add_sequence(db, "group_added", str(g2))
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.group_members (group_id, contact_id) values (%s, %s)", (g1, c))
    assert enrollments(db) == []
    db.execute("insert into drip.group_members (group_id, contact_id) values (%s, %s)", (g2, c))
    assert [e["sequence_id"] for e in enrollments(db)] == [seq]


def test_purchase_enrolls_when_confirmed_once_per_purchase(db):
    any_seq = add_sequence(db, "after_purchase", None, name="any")
    book = add_sequence(db, "after_purchase", "book", name="book")
    c = add_contact(db, "a@example.com")
    pid = db.execute(
        "insert into drip.purchases (contact_id, product_id, status) values (%s, 'book', 'pending') returning id",
        (c,),
    ).fetchone()["id"]
    assert enrollments(db) == []
    db.execute("update drip.purchases set status = 'confirmed' where id = %s", (pid,))
    assert sorted(e["sequence_id"] for e in enrollments(db)) == sorted([any_seq, book])
    db.execute("update drip.enrollments set status = 'completed'")
    db.execute("update drip.purchases set status = 'refunded' where id = %s", (pid,))
    db.execute("update drip.purchases set status = 'confirmed' where id = %s", (pid,))
    assert len(enrollments(db)) == 2  # confirmed again: not a new purchase
    db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'pen')", (c,))
    assert [e["sequence_id"] for e in enrollments(db)][2:] == [any_seq]


def test_first_click_in_a_mailing_enrolls_later_clicks_do_not(db):
    seq = add_sequence(db, "after_first_click", "7")
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.link_clicks (contact_id, mailing_id, url) values (%s, 8, 'u')", (c,))
    assert enrollments(db) == []
    db.execute(
        "insert into drip.link_clicks (contact_id, mailing_id, url) values (%s, 7, 'u'), (%s, 7, 'v')", (c, c)
    )
    assert [e["sequence_id"] for e in enrollments(db)] == [seq]
    db.execute("update drip.enrollments set status = 'completed'")
    db.execute("insert into drip.link_clicks (contact_id, mailing_id, url) values (%s, 7, 'w')", (c,))
    assert len(enrollments(db)) == 1


def test_fire_trigger_returns_new_enrollments_and_refuses_unknown_contact(db):
    add_sequence(db, "after_purchase", None, name="a")
    add_sequence(db, "after_purchase", "x", name="b")
    c = add_contact(db, "a@example.com")
    assert db.execute("select drip.fire_trigger('after_purchase', %s, 'x') as n", (c,)).fetchone()["n"] == 2
    assert db.execute("select drip.fire_trigger('after_purchase', %s, 'x') as n", (c,)).fetchone()["n"] == 0
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as err:
        db.execute("select drip.fire_trigger('after_purchase', 999999, 'x')")
    assert error_field(err.value.diag) == "p_contact_id"


def wakeups_for_tagging_into(dsn, db, steps) -> list[str]:
    """Tags a contact into a sequence with these steps; the drip_due notifications it caused."""
    add_sequence(db, "tag_added", None, steps=steps)
    c = add_contact(db, "a@example.com")
    t = add_tag(db, "x")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute("listen drip_due")
        tag(db, c, t)
        got = [n.channel for n in listener.notifies(timeout=1, stop_after=1)]
    assert len(enrollments(db)) == 1
    return got


@not_on_citus(reason='nothing notifies from inside a shard (docs/SCALE_OUT.md, wake-ups)')
def test_new_enrollment_due_now_notifies_drip_due(dsn, db):
    assert wakeups_for_tagging_into(dsn, db, [(0, "now", "<p>now</p>")]) == ["drip_due"]


def test_enrollment_due_later_does_not_wake_the_dispatcher(dsn, db):
    assert wakeups_for_tagging_into(dsn, db, [(24, "later", "<p>later</p>")]) == []


def test_deleting_a_contact_deletes_its_enrollments_and_mail(db):
    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    keep = add_contact(db, "b@example.com")
    t = add_tag(db, "x")
    tag(db, c, t)
    tag(db, keep, t)
    db.execute("call drip.dispatch_due()")
    db.execute("delete from drip.contacts where id = %s", (c,))
    assert [e["contact_id"] for e in enrollments(db)] == [keep]
    assert [r["contact_id"] for r in db.execute("select contact_id from drip.outbox").fetchall()] == [keep]


@not_on_citus(reason="a foreign key refuses it, with PostgreSQL's own message")
def test_deleting_a_sequence_with_enrollments_is_refused(db):
    seq = add_sequence(db, "tag_added", None)
    unused = add_sequence(db, "tag_added", "nobody", name="unused")
    tag(db, add_contact(db, "a@example.com"), add_tag(db, "x"))
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as err:
        db.execute("delete from drip.sequences where id = %s", (seq,))
    assert "Deactivate it instead" in err.value.diag.message_hint
    db.execute("delete from drip.sequences where id = %s", (unused,))
    assert [r["id"] for r in db.execute("select id from drip.sequences").fetchall()] == [seq]
