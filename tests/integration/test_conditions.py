"""The condition language (one validator, one compiler) through its uses: send_if (behaviour 19,
judged in dispatch for the whole batch), exit_condition (behaviour 22), and the refusals that
name the column."""

import json

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, add_tag, dispatch, enrollments, error_field, outbox, tag


def add_event(db, contact_id: int, name: str, key: str | None = None, hours_ago: float = 0) -> None:
    db.execute("insert into drip.events (contact_id, name, key, occurred_at) "
               "values (%s, %s, %s, now() - %s * interval '1 hour')", (contact_id, name, key, hours_ago))


def conditional_sequence(db, send_if: dict | None, trigger: str = "tag_added", value: str | None = "go") -> int:
    """step 1 carries send_if, step 2 (24 h later) always sends."""
    seq = add_sequence(db, trigger, value, steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("update drip.sequence_steps set send_if = %s where sequence_id = %s and step_order = 1",
                (json.dumps(send_if) if send_if is not None else None, seq))
    return seq


def sent_subjects(db) -> list[str]:
    return [r["subject"] for r in outbox(db)]


CASES = [
    # (condition, state of the contact, sends?)
    ({"tag": "VIP"}, {"tags": ["vip"]}, True),
    ({"tag": "vip"}, {"tags": ["other"]}, False),
    ({"group": 1}, {"groups": [1]}, True),
    ({"group": 2}, {"groups": [1]}, False),
    ({"attribute": "plan", "equals": "pro"}, {"attributes": {"plan": "pro"}}, True),
    ({"attribute": "plan", "equals": "pro"}, {"attributes": {"plan": "free"}}, False),
    ({"attribute": "plan", "equals": "pro"}, {"attributes": {}}, False),
    ({"attribute": "n", "equals": "1"}, {"attributes": {"n": 1}}, False),   # JSON equality: "1" is not 1
    ({"attribute": "n", "equals": 1}, {"attributes": {"n": 1.0}}, True),
    ({"attribute": "plan", "in": ["pro", "team"]}, {"attributes": {"plan": "team"}}, True),
    ({"attribute": "plan", "in": ["pro", "team"]}, {"attributes": {"plan": "free"}}, False),
    ({"attribute": "plan", "exists": True}, {"attributes": {"plan": "x"}}, True),
    ({"attribute": "plan", "exists": True}, {"attributes": {"plan": None}}, False),
    ({"attribute": "plan", "exists": False}, {"attributes": {"plan": None}}, True),
    ({"attribute": "plan", "exists": False}, {"attributes": {}}, True),
    ({"attribute": "seats", "gt": 10}, {"attributes": {"seats": 11}}, True),
    ({"attribute": "seats", "gt": 10}, {"attributes": {"seats": 10}}, False),
    ({"attribute": "seats", "gte": 10}, {"attributes": {"seats": 10}}, True),
    ({"attribute": "seats", "lt": 10}, {"attributes": {"seats": 9.5}}, True),
    ({"attribute": "seats", "lte": 10}, {"attributes": {"seats": 11}}, False),
    ({"attribute": "seats", "gt": 10}, {"attributes": {"seats": "11"}}, False),  # not a JSON number
    ({"not": {"attribute": "seats", "gt": 10}}, {"attributes": {"seats": "11"}}, True),
    ({"event": "Activated"}, {"events": [("activated", 0)]}, True),
    ({"event": "activated"}, {"events": [("other", 0)]}, False),
    # events: (name, hours after the enrollment began); judged at 50 h
    ({"event": "login", "within_hours": 24}, {"events": [("login", 48)]}, True),
    ({"event": "login", "within_hours": 24}, {"events": [("login", 2)]}, False),
    ({"purchased": True}, {"purchases": [("p1", "confirmed")]}, True),
    ({"purchased": True}, {"purchases": [("p1", "pending")]}, False),
    ({"purchased": "p1"}, {"purchases": [("p1", "confirmed")]}, True),
    ({"purchased": "p2"}, {"purchases": [("p1", "confirmed")]}, False),
    ({"all": [{"tag": "vip"}, {"attribute": "plan", "equals": "pro"}]},
     {"tags": ["vip"], "attributes": {"plan": "pro"}}, True),
    ({"all": [{"tag": "vip"}, {"attribute": "plan", "equals": "pro"}]}, {"tags": ["vip"]}, False),
    ({"any": [{"tag": "vip"}, {"attribute": "plan", "equals": "pro"}]}, {"attributes": {"plan": "pro"}}, True),
    ({"any": [{"tag": "vip"}, {"attribute": "plan", "equals": "pro"}]}, {}, False),
    ({"not": {"tag": "vip"}}, {}, True),
]


def test_send_if_sends_when_true_and_skips_when_false(db):
    """Every case at once: one contact and one sequence each, all judged in the same dispatch batch."""
    db.execute("insert into drip.groups (id, name) overriding system value values (1, 'g1')")
    cases = []
    for i, (condition, state, sends) in enumerate(CASES):
        seq = conditional_sequence(db, condition, value=f"go{i}")
        contact = add_contact(db, f"case{i}@example.com", attributes=json.dumps(state.get("attributes", {})))
        tag(db, contact, add_tag(db, f"go{i}"))  # enrolled; what follows happens during the enrollment
        for name in state.get("tags", []):
            tag_id = db.execute("insert into drip.tags (name) values (%s) on conflict do nothing returning id",
                                (name,)).fetchone()
            tag_id = tag_id["id"] if tag_id else db.execute("select id from drip.tags where name = %s",
                                                            (name,)).fetchone()["id"]
            tag(db, contact, tag_id)
        for group in state.get("groups", []):
            db.execute("insert into drip.group_members (group_id, contact_id) values (%s, %s)", (group, contact))
        for product, status in state.get("purchases", []):
            db.execute("insert into drip.purchases (contact_id, product_id, status) values (%s, %s, %s)",
                       (contact, product, status))
        for name, hours_after in state.get("events", []):
            add_event(db, contact, name, hours_ago=-hours_after)
        cases.append((condition, state, sends, seq, contact))
    dispatch(db, 50)
    sent = {r["contact_id"] for r in outbox(db)}
    skipped = {r["sequence_id"]: r["skipped"] for r in db.execute(
        "select sequence_id, skipped from drip.step_report where step_order = 1").fetchall()}
    wrong = [(condition, state, sends) for condition, state, sends, seq, contact in cases
             if (contact in sent) != sends or skipped[seq] != (0 if sends else 1)]
    assert wrong == []
    assert len(sent) == sum(1 for *_, sends in CASES if sends)


def test_a_skip_moves_on_as_if_the_step_had_been_sent_now(db):
    conditional_sequence(db, {"tag": "never"})
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db, 1)  # step 1 skipped at now + 1 h: step 2 is due 24 h after that
    [e] = enrollments(db)
    assert e["status"] == "active" and e["last_step_order_sent"] == 1
    assert db.execute("select %s::timestamptz - last_step_sent_at = interval '24 hours' ok from drip.enrollments",
                      (e["next_step_due_at"],)).fetchone()["ok"]
    dispatch(db, 24.9)
    assert sent_subjects(db) == []
    dispatch(db, 25.1)
    assert sent_subjects(db) == ["two"]
    assert enrollments(db)[0]["status"] == "completed"


def test_skipping_the_last_step_completes_the_enrollment(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>")])
    db.execute("""update drip.sequence_steps set send_if = '{"tag": "never"}' where sequence_id = %s""", (seq,))
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)
    assert outbox(db) == [] and enrollments(db)[0]["status"] == "completed"


def test_a_skip_is_the_one_step_of_that_call(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (0, "two", "<p>2</p>")])
    db.execute("""update drip.sequence_steps set send_if = '{"tag": "never"}' where sequence_id = %s
                  and step_order = 1""", (seq,))
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "go"))
    dispatch(db)
    assert outbox(db) == [] and enrollments(db)[0]["last_step_order_sent"] == 1
    dispatch(db, 0.01)
    assert sent_subjects(db) == ["two"]


def test_send_if_is_judged_for_each_contact_of_one_batch(db):
    conditional_sequence(db, {"attribute": "n", "gte": 50})
    db.execute("insert into drip.contacts (email, attributes) select 'u' || g || '@example.com', "
               "jsonb_build_object('n', g) from generate_series(1, 120) g")
    db.execute("insert into drip.tags (name) values ('go')")
    db.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t")
    dispatch(db)
    sent = db.execute("select count(*) n from drip.outbox").fetchone()["n"]
    assert sent == 71
    assert db.execute("select skipped from drip.step_report where step_order = 1").fetchone()["skipped"] == 49


def test_send_if_is_judged_only_inside_the_send_window(db):
    seq = conditional_sequence(db, {"tag": "vip"})
    db.execute("update drip.sequences set send_window_start = '09:00', send_window_end = '10:00' where id = %s", (seq,))
    ada = add_contact(db, "ada@example.com")
    db.execute("select 1")
    tag(db, ada, add_tag(db, "go"))
    # outside the window nothing is judged: the step waits for the window (not skipped)
    due = enrollments(db)[0]["next_step_due_at"]
    tag(db, ada, add_tag(db, "vip"))
    db.execute("call drip.dispatch_due(%s)", (due,))
    assert sent_subjects(db) == ["one"]


def test_event_conditions_inside_an_enrollment_count_its_own_events(db):
    seq = add_sequence(db, "event", "cart_abandoned", steps=[(1, "reminder", "<p>1</p>")])
    db.execute("""update drip.sequence_steps set send_if = '{"not": {"event": "order_placed"}}'
                  where sequence_id = %s""", (seq,))
    ada = add_contact(db, "ada@example.com")
    add_event(db, ada, "order_placed", "old", hours_ago=5)   # before the enrollment: does not count
    add_event(db, ada, "cart_abandoned", "c1")
    add_event(db, ada, "cart_abandoned", "c2")
    add_event(db, ada, "order_placed", "c2")                 # c2's order: only c2 skips
    dispatch(db, 2)
    rows = db.execute("select e.event_key from drip.outbox o "
                      "join drip.enrollments e on e.id = o.enrollment_id and e.contact_id = o.contact_id").fetchall()
    assert [r["event_key"] for r in rows] == ["c1"]
    add_event(db, ada, "cart_abandoned", "c3")
    add_event(db, ada, "order_placed")                        # keyless: matches every enrollment
    dispatch(db, 4)
    assert len(outbox(db)) == 1


def test_clicked_counts_a_persons_click_in_this_enrollments_mail(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>"),
                                                     (24, "three", "<p>3</p>")])
    db.execute("""update drip.sequence_steps set send_if = '{"clicked": 1}' where sequence_id = %s
                  and step_order = 2""", (seq,))
    db.execute("""update drip.sequence_steps set send_if = '{"clicked": true}' where sequence_id = %s
                  and step_order = 3""", (seq,))
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    go = add_tag(db, "go")
    tag(db, ada, go)
    tag(db, bob, go)
    dispatch(db)
    one = {r["contact_id"]: r for r in outbox(db)}
    # ada clicks (a person), bob's click is a bot's
    for contact, bot in ((ada, None), (bob, "scanner")):
        db.execute("insert into drip.clicks (contact_id, enrollment_id, step_id, link_no, method, bot_reason) "
                   "values (%s, %s, %s, 1, 'GET', %s)",
                   (contact, one[contact]["enrollment_id"], one[contact]["step_id"], bot))
    dispatch(db, 25)
    dispatch(db, 50)
    got = sorted((r["contact_id"], r["subject"]) for r in outbox(db))
    assert got == [(ada, "one"), (ada, "three"), (ada, "two"), (bob, "one")]


def test_exit_condition_ends_enrollments_when_a_write_makes_it_true(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("""update drip.sequences set exit_condition = '{"tag": "customer"}' where id = %s""", (seq,))
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    go = add_tag(db, "go")
    tag(db, ada, go)
    tag(db, bob, go)
    db.execute("update drip.outbox set status = 'queued'")  # nothing yet
    dispatch(db)
    customer = add_tag(db, "customer")
    with db.transaction(force_rollback=True):
        tag(db, ada, customer)
        assert {r["contact_id"]: r["status"] for r in enrollments(db)} == {ada: "exited", bob: "active"}
    tag(db, ada, customer)
    rows = {r["contact_id"]: r for r in enrollments(db)}
    assert rows[ada]["status"] == "exited" and rows[ada]["exited_at"] is not None
    assert rows[bob]["status"] == "active"
    ada_mail = [r for r in outbox(db) if r["contact_id"] == ada]
    assert [(r["status"], r["last_error"]) for r in ada_mail] == [
        ("cancelled", "the contact met the sequence's exit condition")]


def test_exit_condition_applies_to_an_inactive_sequence_and_at_the_latest_when_due(db):
    seq = add_sequence(db, "tag_added", "go", steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("""update drip.sequences set exit_condition = '{"event": "login", "within_hours": 1}'
                  where id = %s""", (seq,))
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    go = add_tag(db, "go")
    tag(db, ada, go)
    tag(db, bob, go)
    dispatch(db)
    db.execute("update drip.sequences set active = false where id = %s", (seq,))
    add_event(db, ada, "login")  # a write: exits even though the sequence is inactive
    assert {r["contact_id"]: r["status"] for r in enrollments(db)} == {ada: "exited", bob: "active"}
    db.execute("update drip.sequences set active = true where id = %s", (seq,))
    # bob's login happened before his enrollment: no write made it true since, but at the due
    # time it is judged again: "in the hour before" p_now holds then
    enrolled_at = db.execute("select enrolled_at - interval '2 hours' t from drip.enrollments where contact_id = %s",
                             (bob,)).fetchone()["t"]
    db.execute("update drip.enrollments set enrolled_at = %s where contact_id = %s", (enrolled_at, bob))
    db.execute("insert into drip.events (contact_id, name, occurred_at) "
               "values (%s, 'login', now() + interval '24 hours')", (bob,))
    assert {r["contact_id"]: r["status"] for r in enrollments(db)}[bob] == "active"  # a future event, not yet
    dispatch(db, 24.2)
    assert {r["contact_id"]: r["status"] for r in enrollments(db)}[bob] == "exited"
    assert [r["subject"] for r in outbox(db)] == ["one", "one"]


BAD = [
    ("[]", "must be a JSON object"),
    ('"tag"', "must be a JSON object"),
    ("{}", "no condition"),
    ('{"tag": "a", "group": 1}', "one condition per object"),
    ('{"tag": "a", "extra": 1}', "unknown key"),
    ('{"tag": ""}', "must be a name"),
    ('{"tag": 5}', "must be a name"),
    ('{"group": "5"}', "whole number"),
    ('{"group": 1.5}', "whole number"),
    ('{"attribute": "plan"}', "exactly one of"),
    ('{"attribute": "plan", "equals": 1, "gt": 2}', "exactly one of"),
    ('{"attribute": "plan", "in": []}', "non-empty list"),
    ('{"attribute": "plan", "in": "pro"}', "non-empty list"),
    ('{"attribute": "plan", "exists": "yes"}', "true or false"),
    ('{"attribute": "plan", "gt": "10"}', "compares with a number"),
    ('{"event": "x", "within_hours": 0}', "within_hours"),
    ('{"event": "x", "within_hours": "24"}', "within_hours"),
    ('{"purchased": false}', "purchased is true"),
    ('{"clicked": 0}', "clicked is true"),
    ('{"clicked": "yes"}', "clicked is true"),
    ('{"all": []}', "non-empty list"),
    ('{"any": {"tag": "a"}}', "non-empty list"),
    ('{"not": [{"tag": "a"}]}', "must be a JSON object"),
    ('{"all": [{"tag": "a"}, {"nope": 1}]}', "no condition"),
]


@pytest.mark.parametrize("column", ["send_if", "exit_condition", "entry_condition"])
def test_a_bad_condition_is_refused_naming_the_column_and_nothing_is_written(db, column):
    seq = add_sequence(db, "tag_added", None)
    if column == "send_if":
        statement = ("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body, send_if) "
                     "values (%(seq)s, 2, 's', '<p>b</p>', %(c)s)")
    else:
        statement = (f"insert into drip.sequences (name, trigger_type, trigger_value, {column}) "
                     f"values ('s', 'tag_added', null, %(c)s)")
    count = "select (select count(*) from drip.sequences) a, (select count(*) from drip.sequence_steps) b"
    before = db.execute(count).fetchone()
    for condition, message in BAD:
        with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
            db.execute(statement, {"seq": seq, "c": condition})
        assert error_field(caught.value.diag) == column, condition
        if column == "entry_condition" and "clicked" in condition:
            message = "needs an enrollment"  # refused before its value is looked at
        assert message in caught.value.diag.message_primary, condition
        assert caught.value.diag.message_hint, condition
    assert db.execute(count).fetchone() == before
    # and an update is refused the same way
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        if column == "send_if":
            db.execute("update drip.sequence_steps set send_if = '{\"tag\": 1}' where sequence_id = %s", (seq,))
        else:
            db.execute(f"update drip.sequences set {column} = '{{\"tag\": 1}}' where id = %s", (seq,))


def test_clicked_is_refused_where_there_is_no_enrollment(db):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        db.execute("""insert into drip.sequences (name, trigger_type, entry_condition)
                      values ('s', 'segment', '{"all": [{"tag": "a"}, {"clicked": true}]}')""")
    assert error_field(caught.value.diag) == "entry_condition"
    assert "$.all[1].clicked" in caught.value.diag.message_primary
    # where there is an enrollment it is fine
    seq = add_sequence(db, "tag_added", None)
    db.execute("""update drip.sequences set exit_condition = '{"clicked": 2}' where id = %s""", (seq,))


def test_a_condition_nests_at_most_ten_deep(db):
    deep = {"tag": "a"}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
        db.execute("insert into drip.sequences (name, trigger_type, exit_condition) values ('s', 'tag_added', %s)",
                   (json.dumps(deep),))
    assert "10 deep" in caught.value.diag.message_primary


def test_a_condition_cannot_inject_sql(db):
    nasty = "x') or true or ('"
    seq = conditional_sequence(db, {"any": [{"tag": nasty}, {"attribute": nasty, "equals": nasty},
                                             {"event": nasty, "within_hours": 1}, {"purchased": nasty}]})
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)
    assert outbox(db) == []
    assert db.execute("select skipped from drip.step_report where sequence_id = %s and step_order = 1",
                      (seq,)).fetchone()["skipped"] == 1


def test_json_null_is_no_condition(db):
    seq = conditional_sequence(db, None)
    db.execute("update drip.sequence_steps set send_if = 'null'::jsonb where sequence_id = %s", (seq,))
    assert db.execute("select count(*) n from drip.sequence_steps where send_if is null").fetchone()["n"] == 2
