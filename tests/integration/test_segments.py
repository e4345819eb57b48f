"""Behaviour 21: segment sequences enroll a contact, in the writer's transaction, when a write makes
its entry_condition go from false to true; drip.enroll_matching enrolls those who already match;
two writers that make one contact match enroll it once."""

import json

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.helpers import add_contact, add_tag, dispatch, enrollments, error_field, run_together, tag

PRO = {"attribute": "plan", "equals": "pro"}


def add_segment(db, condition: dict, reentry: str = "after_completion", active: bool = True,
                steps: list[tuple[float, str]] | None = None) -> int:
    seq = db.execute("insert into drip.sequences (name, trigger_type, entry_condition, reentry, active) "
                     "values ('segment', 'segment', %s, %s, %s) returning id",
                     (json.dumps(condition), reentry, active)).fetchone()["id"]
    for order, (delay, subject) in enumerate(steps or [(24, "welcome to pro")], 1):
        db.execute("insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
                   "values (%s, %s, %s, %s, '<p>x</p>')", (seq, order, delay, subject))
    return seq


def enrolled(db, seq: int, status: str = "active") -> list[int]:
    return [r["contact_id"] for r in db.execute(
        "select contact_id from drip.enrollments where sequence_id = %s and status = %s order by contact_id",
        (seq, status)).fetchall()]


def set_plan(db, contact_id: int, plan: str | None) -> None:
    db.execute("update drip.contacts "
               "set attributes = jsonb_strip_nulls(attributes || jsonb_build_object('plan', %s::text)) "
               "where id = %s", (plan, contact_id))


def test_contacts_who_already_match_enter_only_through_enroll_matching(db):
    ada = add_contact(db, "ada@example.com", attributes=json.dumps({"plan": "pro"}))
    bob = add_contact(db, "bob@example.com", attributes=json.dumps({"plan": "free"}))
    seq = add_segment(db, PRO)
    assert enrolled(db, seq) == []
    # a write that leaves ada matching is no transition
    db.execute("update drip.contacts set attributes = attributes || '{\"seats\": 3}' where id = %s", (ada,))
    assert enrolled(db, seq) == []
    assert db.execute("select drip.enroll_matching(%s) n", (seq,)).fetchone()["n"] == 1
    assert enrolled(db, seq) == [ada]
    assert db.execute("select drip.enroll_matching(%s) n", (seq,)).fetchone()["n"] == 0  # already active
    set_plan(db, bob, "pro")
    assert enrolled(db, seq) == [ada, bob]


def test_a_write_that_makes_a_contact_match_enrolls_it_in_the_writers_transaction(db):
    seq = add_segment(db, PRO)
    ada = add_contact(db, "ada@example.com")
    with db.transaction(force_rollback=True):
        set_plan(db, ada, "pro")
        assert enrolled(db, seq) == [ada]
    assert enrolled(db, seq) == []
    set_plan(db, ada, "pro")
    assert enrolled(db, seq) == [ada]
    [e] = enrollments(db)
    assert e["next_step_due_at"] is not None


def test_a_new_contact_that_matches_enters(db):
    seq = add_segment(db, {"not": {"tag": "customer"}})
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 50) g")
    assert len(enrolled(db, seq)) == 50


@pytest.mark.parametrize("source", ["tag", "untag", "group", "purchase", "refund", "event"])
def test_every_kind_of_write_can_make_a_contact_enter(db, source):
    ada = add_contact(db, "ada@example.com")
    vip = add_tag(db, "vip")
    if source == "untag":
        tag(db, ada, vip)
    db.execute("insert into drip.groups (id, name) overriding system value values (7, 'g')")
    if source == "refund":
        db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'p1')", (ada,))
    condition = {
        "tag": {"tag": "vip"}, "untag": {"not": {"tag": "vip"}}, "group": {"group": 7},
        "purchase": {"purchased": "p1"}, "refund": {"not": {"purchased": True}},
        "event": {"event": "trial_started", "within_hours": 24},
    }[source]
    seq = add_segment(db, condition)
    assert enrolled(db, seq) == []
    write = {
        "tag": "insert into drip.contact_tags (contact_id, tag_id) values (%(c)s, %(vip)s)",
        "untag": "delete from drip.contact_tags where contact_id = %(c)s",
        "group": "insert into drip.group_members (group_id, contact_id) values (7, %(c)s)",
        "purchase": "insert into drip.purchases (contact_id, product_id) values (%(c)s, 'p1')",
        "refund": "update drip.purchases set status = 'refunded' where contact_id = %(c)s",
        "event": "insert into drip.events (contact_id, name) values (%(c)s, 'trial_started')",
    }[source]
    db.execute(write, {"c": ada, "vip": vip})
    assert enrolled(db, seq) == [ada]


def test_leaving_and_entering_again_enrolls_again_under_reentry(db):
    again = add_segment(db, PRO, steps=[(0, "hi")])
    once = add_segment(db, PRO, reentry="never", steps=[(0, "hi")])
    ada = add_contact(db, "ada@example.com")
    set_plan(db, ada, "pro")
    dispatch(db)  # both complete
    assert enrolled(db, again, "completed") == [ada] and enrolled(db, once, "completed") == [ada]
    set_plan(db, ada, "pro")  # still matching: no transition
    assert enrolled(db, again) == []
    set_plan(db, ada, "free")  # leaves
    set_plan(db, ada, "pro")   # enters again
    assert enrolled(db, again) == [ada] and enrolled(db, once) == []


def test_entering_while_still_enrolled_is_a_no_op(db):
    seq = add_segment(db, PRO)
    ada = add_contact(db, "ada@example.com")
    set_plan(db, ada, "pro")
    set_plan(db, ada, "free")
    set_plan(db, ada, "pro")
    assert enrolled(db, seq) == [ada]
    assert len(enrollments(db)) == 1


def test_an_inactive_segment_enrolls_nobody_and_activation_is_no_transition(db):
    seq = add_segment(db, PRO, active=False)
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    set_plan(db, ada, "pro")
    assert enrolled(db, seq) == []
    assert db.execute("select drip.enroll_matching(%s) n", (seq,)).fetchone()["n"] == 0
    db.execute("update drip.sequences set active = true where id = %s", (seq,))
    assert enrolled(db, seq) == []      # ada matched when it was activated
    set_plan(db, bob, "pro")
    assert enrolled(db, seq) == [bob]
    assert db.execute("select drip.enroll_matching(%s) n", (seq,)).fetchone()["n"] == 1
    assert enrolled(db, seq) == [ada, bob]


def test_a_new_condition_is_no_transition_for_who_matches_it(db):
    seq = add_segment(db, PRO)
    ada = add_contact(db, "ada@example.com", attributes=json.dumps({"plan": "team"}))
    db.execute("""update drip.sequences set entry_condition = '{"attribute": "plan", "in": ["pro", "team"]}'
                  where id = %s""", (seq,))
    db.execute("update drip.contacts set attributes = attributes || '{\"seats\": 3}' where id = %s", (ada,))
    assert enrolled(db, seq) == []


def test_unsubscribed_contacts_are_members_but_never_enrolled(db):
    seq = add_segment(db, PRO)
    ada = add_contact(db, "ada@example.com")
    db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (ada,))
    set_plan(db, ada, "pro")
    assert enrolled(db, seq) == []
    assert db.execute("select drip.enroll_matching(%s) n", (seq,)).fetchone()["n"] == 0


def test_enroll_matching_refuses_what_is_not_a_segment(db):
    seq = db.execute("insert into drip.sequences (name, trigger_type, trigger_value) values ('t', 'tag_added', 'x') "
                     "returning id").fetchone()["id"]
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        db.execute("select drip.enroll_matching(%s)", (seq,))
    assert error_field(caught.value.diag) == "p_sequence_id"
    with pytest.raises(psycopg.errors.NoDataFound):
        db.execute("select drip.enroll_matching(424242)")


def test_a_segment_needs_its_condition(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        db.execute("insert into drip.sequences (name, trigger_type) values ('s', 'segment')")
    assert error_field(caught.value.diag) == "entry_condition"
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        db.execute("""insert into drip.sequences (name, trigger_type, trigger_value, entry_condition)
                      values ('s', 'segment', 'x', '{"tag": "a"}')""")
    assert error_field(caught.value.diag) == "trigger_value"


def test_two_writers_making_one_contact_match_enroll_it_once(dsn, db):
    seq = add_segment(db, PRO)
    contacts = [add_contact(db, f"u{i}@example.com") for i in range(20)]

    def write(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for contact in contacts:
                conn.execute("update drip.contacts set attributes = attributes || %s where id = %s",
                             (json.dumps({"plan": "pro", f"by{i}": True}), contact))

    assert run_together(2, write) == []
    assert enrolled(db, seq) == contacts
    assert len(enrollments(db)) == 20


def test_two_writers_each_supplying_half_of_the_condition_enroll_the_contact(dsn, db):
    """Write skew: each writer alone does not make the contact match; together they do. The
    contact is locked before judging, so the second judges after the first committed."""
    seq = add_segment(db, {"all": [{"tag": "a"}, {"tag": "b"}]})
    a, b = add_tag(db, "a"), add_tag(db, "b")
    contacts = [add_contact(db, f"u{i}@example.com") for i in range(20)]

    def write(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as conn:
            for contact in contacts:
                conn.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s)",
                             (contact, (a, b)[i]))

    assert run_together(2, write) == []
    assert enrolled(db, seq) == contacts


def test_two_writers_inserting_events_enroll_once(dsn, db):
    seq = add_segment(db, {"event": "signup"})
    contacts = [add_contact(db, f"u{i}@example.com") for i in range(20)]

    def write(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for contact in contacts:
                conn.execute("insert into drip.events (contact_id, name) values (%s, 'signup')", (contact,))

    assert run_together(4, write) == []
    assert enrolled(db, seq) == contacts
    assert len(enrollments(db)) == 20


def test_deleting_a_contact_forgets_its_events_and_memberships(db):
    add_segment(db, PRO)
    ada = add_contact(db, "ada@example.com", attributes=json.dumps({"plan": "pro"}))
    db.execute("insert into drip.events (contact_id, name) values (%s, 'x')", (ada,))
    db.execute("delete from drip.contacts where id = %s", (ada,))
    assert db.execute("select (select count(*) from drip.events) + (select count(*) from drip.segment_members) n"
                      ).fetchone()["n"] == 0
