"""Behaviours 17 and 18: drip.events enrolls into event sequences in the writer's transaction,
keys, event goals, entry conditions, contacts.attributes, and the {{attribute.X}} and {{event.X}}
merge tags."""

import json

import psycopg
import pytest

from tests.helpers import ON_CITUS, add_contact, add_sequence, add_tag, dispatch, enrollments, error_field, outbox, tag


def add_event(db, contact_id: int, name: str, key: str | None = None, payload: dict | None = None) -> int:
    return db.execute("insert into drip.events (contact_id, name, key, payload) values (%s, %s, %s, %s) returning id",
                      (contact_id, name, key, json.dumps(payload or {}))).fetchone()["id"]


def active(db, sequence_id: int) -> list[tuple[int, str | None]]:
    return [(r["contact_id"], r["event_key"]) for r in db.execute(
        "select contact_id, event_key from drip.enrollments where sequence_id = %s and status = 'active' "
        "order by contact_id, event_key nulls first", (sequence_id,)).fetchall()]


def test_an_event_enrolls_into_every_active_event_sequence_of_its_name(db):
    cart = add_sequence(db, "event", "cart_abandoned", name="cart")
    other = add_sequence(db, "event", "trial_started", name="trial")
    off = add_sequence(db, "event", "cart_abandoned", name="off", active=False)
    ada = add_contact(db, "ada@example.com")
    event_id = add_event(db, ada, "Cart_Abandoned", "c1", {"total": 42})
    rows = enrollments(db)
    assert [(r["sequence_id"], r["contact_id"], r["event_key"], r["event_id"]) for r in rows] == [
        (cart, ada, "c1", event_id)]
    assert active(db, other) == [] and active(db, off) == []


def test_the_enrollment_is_part_of_the_writers_transaction(db):
    cart = add_sequence(db, "event", "cart_abandoned")
    ada = add_contact(db, "ada@example.com")
    with db.transaction(force_rollback=True):
        add_event(db, ada, "cart_abandoned", "c1")
        assert active(db, cart) == [(ada, "c1")]
    assert active(db, cart) == []
    assert db.execute("select count(*) n from drip.events").fetchone()["n"] == 0


def test_one_active_enrollment_per_event_key_and_a_null_key_is_one_key(db):
    cart = add_sequence(db, "event", "cart_abandoned", steps=[(24, "Your cart", "<p>x</p>")])
    ada = add_contact(db, "ada@example.com")
    add_event(db, ada, "cart_abandoned", "c1")
    add_event(db, ada, "cart_abandoned", "c1")      # the same key while active: nothing
    add_event(db, ada, "cart_abandoned", "c2")      # another cart: enrolls again
    add_event(db, ada, "cart_abandoned")            # keyless
    add_event(db, ada, "cart_abandoned")            # keyless again while the keyless one is active: nothing
    assert active(db, cart) == [(ada, None), (ada, "c1"), (ada, "c2")]
    # the same key twice in one statement enrolls once
    bob = add_contact(db, "bob@example.com")
    db.execute("insert into drip.events (contact_id, name, key) values (%s, 'cart_abandoned', 'b1'), "
               "(%s, 'cart_abandoned', 'b1'), (%s, 'cart_abandoned', 'b2')", (bob, bob, bob))
    assert active(db, cart)[3:] == [(bob, "b1"), (bob, "b2")]


def test_a_completed_keyed_enrollment_lets_the_same_key_enroll_again(db):
    cart = add_sequence(db, "event", "cart_abandoned")
    ada = add_contact(db, "ada@example.com")
    add_event(db, ada, "cart_abandoned", "c1")
    dispatch(db)
    assert [r["status"] for r in enrollments(db)] == ["completed"]
    add_event(db, ada, "cart_abandoned", "c1")
    assert active(db, cart) == [(ada, "c1")]


def test_an_event_goal_exits_only_the_enrollments_its_key_matches(db):
    cart = add_sequence(db, "event", "cart_abandoned", steps=[(24, "Your cart", "<p>x</p>")])
    db.execute("update drip.sequences set exit_trigger_type = 'event', exit_trigger_value = 'ORDER_PLACED' "
               "where id = %s", (cart,))
    ada = add_contact(db, "ada@example.com")
    for key in ("c1", "c2", None):
        add_event(db, ada, "cart_abandoned", key)
    dispatch(db, 25)  # step 1 of each queued, so there is mail to cancel ... and none, as it was the last
    add_event(db, ada, "cart_abandoned", "c3")
    add_event(db, ada, "order_placed", "c3")  # a keyed goal: its key and the keyless enrollment
    assert active(db, cart) == []  # c1, c2 completed; None had completed too; c3 exited
    statuses = {r["event_key"]: r["status"] for r in enrollments(db) if r["status"] != "completed"}
    assert statuses == {"c3": "exited"}


def test_a_keyed_goal_leaves_other_keys_and_a_keyless_goal_ends_them_all(db):
    cart = add_sequence(db, "event", "cart_abandoned", steps=[(24, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("update drip.sequences set exit_trigger_type = 'event', exit_trigger_value = 'order_placed' "
               "where id = %s", (cart,))
    ada = add_contact(db, "ada@example.com")
    for key in ("c1", "c2", None):
        add_event(db, ada, "cart_abandoned", key)
    dispatch(db, 25)  # step 1 queued for all three
    add_event(db, ada, "order_placed", "c1")
    assert active(db, cart) == [(ada, "c2")]
    exited = db.execute("select e.event_key, o.status, o.last_error from drip.enrollments e "
                        "join drip.outbox o on o.enrollment_id = e.id and o.contact_id = e.contact_id "
                        "where e.status = 'exited' "
                        "order by e.event_key nulls first").fetchall()
    assert [(r["event_key"], r["status"]) for r in exited] == [(None, "cancelled"), ("c1", "cancelled")]
    add_event(db, ada, "order_placed")
    assert active(db, cart) == []


def test_an_entry_condition_filters_the_event_when_it_happens(db):
    pro = add_sequence(db, "event", "login", name="pro logins")
    db.execute("""update drip.sequences set entry_condition = '{"attribute": "plan", "equals": "pro"}'
                  where id = %s""", (pro,))
    anyone = add_sequence(db, "event", "login", name="all logins")
    ada = add_contact(db, "ada@example.com", attributes=json.dumps({"plan": "pro"}))
    bob = add_contact(db, "bob@example.com", attributes=json.dumps({"plan": "free"}))
    db.execute("insert into drip.events (contact_id, name) values (%s, 'login'), (%s, 'login')", (ada, bob))
    assert active(db, pro) == [(ada, None)]
    assert active(db, anyone) == [(ada, None), (bob, None)]


def test_an_entry_condition_on_a_tag_sequence_filters_tags(db):
    seq = add_sequence(db, "tag_added", "vip")
    db.execute("""update drip.sequences set entry_condition = '{"not": {"purchased": true}}' where id = %s""", (seq,))
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    db.execute("insert into drip.purchases (contact_id, product_id) values (%s, 'p1')", (bob,))
    vip = add_tag(db, "vip")
    db.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s), (%s, %s)", (ada, vip, bob, vip))
    assert [r["contact_id"] for r in enrollments(db)] == [ada]


def test_unsubscribed_contacts_are_not_enrolled_by_events(db):
    cart = add_sequence(db, "event", "cart_abandoned")
    ada = add_contact(db, "ada@example.com")
    db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (ada,))
    add_event(db, ada, "cart_abandoned", "c1")
    assert active(db, cart) == []


BAD_EVENTS = [
    ("contact_id, name", "%(c)s, ''", "name"),
    ("contact_id, name", "%(c)s, '   '", "name"),
    ("contact_id, name", "%(c)s, repeat('x', 201)", "name"),
    ("contact_id, name", "%(c)s, E'a\\nb'", "name"),
    ("contact_id, name, key", "%(c)s, 'x', ''", "key"),
    ("contact_id, name, key", "%(c)s, 'x', E'k\\t1'", "key"),
    ("contact_id, name, payload", "%(c)s, 'x', '[1, 2]'", "payload"),
    ("contact_id, name, payload", "%(c)s, 'x', '\"text\"'", "payload"),
    ("contact_id, name", "%(c)s + 1000, 'x'", "contact_id"),
]


def test_a_bad_event_is_refused_naming_the_column_and_nothing_is_written(db):
    add_sequence(db, "event", "x")
    ada = add_contact(db, "ada@example.com")
    for columns, values, field in BAD_EVENTS:
        with pytest.raises(psycopg.Error) as caught:
            db.execute(f"insert into drip.events ({columns}) values ({values})", {"c": ada})
        if ON_CITUS and field == "contact_id":  # a foreign key refuses it there, with PostgreSQL's own message
            assert isinstance(caught.value, psycopg.errors.ForeignKeyViolation)
            assert "(contact_id)" in caught.value.diag.message_detail
        else:
            assert error_field(caught.value.diag) == field, values
    assert db.execute("select (select count(*) from drip.events) + (select count(*) from drip.enrollments) n"
                      ).fetchone()["n"] == 0


def test_one_bad_row_refuses_the_whole_statement(db):
    add_sequence(db, "event", "x")
    ada = add_contact(db, "ada@example.com")
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("insert into drip.events (contact_id, name, payload) values (%s, 'x', '{}'), (%s, 'x', '3')",
                   (ada, ada))
    assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 0


def test_attributes_must_be_an_object(db):
    ada = add_contact(db, "ada@example.com")
    for attributes in ["[]", "1", "\"pro\"", "null"]:
        with pytest.raises(psycopg.Error) as caught:
            db.execute("insert into drip.contacts (email, attributes) values ('a@example.com', %s::jsonb)",
                       (attributes,))
        assert error_field(caught.value.diag) == "attributes", attributes
        with pytest.raises(psycopg.Error) as caught:
            db.execute("update drip.contacts set attributes = %s::jsonb where id = %s", (attributes, ada))
        assert error_field(caught.value.diag) == "attributes", attributes
    assert [r["attributes"] for r in db.execute("select attributes from drip.contacts").fetchall()] == [{}]


def test_fire_trigger_points_events_and_segments_elsewhere(db):
    ada = add_contact(db, "ada@example.com")
    for kind in ("event", "segment"):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
            db.execute("select drip.fire_trigger(%s, %s, 'x')", (kind, ada))
        assert error_field(caught.value.diag) == "p_trigger_type"
        assert ("drip.events" if kind == "event" else "enroll_matching") in caught.value.diag.message_hint


def test_event_merge_tags_come_from_the_enrolling_events_payload(db):
    add_sequence(db, "event", "cart_abandoned", steps=[(
        0, "Your cart {{event.cart_id}} ({{ event.items | none }})",
        '<p>Total: {{event.total}} for {{event.who|you}}, {{event.flag}} {{event.none|-}}</p>'
        '<a href="https://shop.example.com/cart/{{event.cart_id}}">back</a>')])
    ada = add_contact(db, "ada@example.com", "Ada")
    add_event(db, ada, "cart_abandoned", "c1",
              {"cart_id": "c-17", "total": 42.5, "who": "<b>Ada</b>", "flag": True, "none": None})
    dispatch(db)
    [row] = outbox(db)
    assert row["subject"] == "Your cart c-17 (none)"
    assert "Total: 42.5 for &lt;b&gt;Ada&lt;/b&gt;, true -" in row["html_body"]
    assert 'href="https://shop.example.com/cart/c-17"' in row["html_body"]
    assert "Total: 42.5 for <b>Ada</b>, true -" in row["text_body"]


def test_attribute_merge_tags_read_the_contact_and_are_escaped(db):
    add_sequence(db, "tag_added", "x", steps=[(
        0, "{{attribute.company|your team}}: {{attribute.seats}} seats",
        "<p>{{attribute.company}} {{attribute.plan|free}} {{ATTRIBUTE.seats}} {{event.cart|no cart}}</p>")])
    ada = add_contact(db, "ada@example.com", attributes=json.dumps(
        {"company": "A&B\nCo {{FirstName}}", "seats": 12, "plan": ""}))
    bob = add_contact(db, "bob@example.com")
    x = add_tag(db, "x")
    tag(db, ada, x)
    tag(db, bob, x)
    dispatch(db)
    ada_row, bob_row = outbox(db)
    assert ada_row["subject"] == "A&B Co { {FirstName}}: 12 seats"
    assert "<p>A&amp;B\nCo { {FirstName}} free 12 no cart</p>" in ada_row["html_body"]
    assert bob_row["subject"] == "your team:  seats"


def test_unknown_merge_tags_are_still_refused_and_field_tags_are_not(db):
    seq = add_sequence(db, "event", "x")
    for bad in ("{{attribute.}}", "{{attributes.plan}}", "{{event}}", "{{Plan}}"):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
            db.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
                       "values (%s, 9, %s, '<p>x</p>')", (seq, "Hi " + bad))
        assert error_field(caught.value.diag) == "subject"
    db.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
               "values (%s, 9, '{{attribute.any name}} {{event.x|y}}', '<p>{{attribute.a-b}}</p>')", (seq,))


def test_prune_deletes_old_events_but_the_one_an_active_enrollment_reads(db):
    add_sequence(db, "event", "cart_abandoned", steps=[(24, "Your cart {{event.cart_id}}", "<p>x</p>")])
    ada = add_contact(db, "ada@example.com")
    db.execute("insert into drip.events (contact_id, name, key, payload, occurred_at) values "
               "(%s, 'cart_abandoned', 'old', '{\"cart_id\": \"c-old\"}', now() - interval '200 days'), "
               "(%s, 'login', null, '{}', now() - interval '200 days'), "
               "(%s, 'login', null, '{}', now() - interval '10 days')", (ada, ada, ada))
    db.execute("call drip.prune(interval '180 days')")
    kept = db.execute("select name, key from drip.events order by occurred_at").fetchall()
    assert [(r["name"], r["key"]) for r in kept] == [("cart_abandoned", "old"), ("login", None)]
    db.execute("update drip.enrollments set status = 'cancelled'")
    db.execute("call drip.prune(interval '180 days')")
    assert [r["name"] for r in db.execute("select name from drip.events").fetchall()] == ["login"]
