"""Behaviours 23 and 24: transactional mail, topics and their unsubscribes, List-Id per topic,
frequency caps (deferred, never skipped; concurrent dispatchers never overshoot) and priority."""

import psycopg
import pytest

from tests.helpers import (
    ON_CITUS,
    add_contact,
    add_sequence,
    add_tag,
    dispatch,
    enrollments,
    error_field,
    outbox,
    run_together,
    tag,
)

SETTINGS = '{"public_url": "http://localhost:8080", "secret": "0123456789abcdef0123", "from_address": "x@example.com"}'


def add_topic(db, name: str) -> int:
    return db.execute("insert into drip.topics (name) values (%s) returning id", (name,)).fetchone()["id"]


def sequence(db, trigger: str, *, message_class: str = "marketing", topic: int | None = None, priority: int = 0,
             steps=None, name: str = "seq") -> int:
    seq = add_sequence(db, "tag_added", trigger, steps=steps, name=name)
    db.execute("update drip.sequences set message_class = %s, topic_id = %s, priority = %s where id = %s",
               (message_class, topic, priority, seq))
    return seq


def token_of(row: dict) -> str:
    return row["list_unsubscribe"].split("/u/")[1].split(">")[0]


def test_transactional_mail_reaches_unsubscribed_contacts_without_an_unsubscribe_link(db):
    db.execute("select drip.publish_mail_settings(%s)", (SETTINGS,))
    receipts = sequence(db, "order", message_class="transactional", steps=[(0, "Your receipt", "<p>r</p>")])
    news = sequence(db, "order", steps=[(0, "Our news", "<p>n</p>")], name="news")
    ada = add_contact(db, "ada@example.com")
    db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (ada,))
    tag(db, ada, add_tag(db, "order"))
    assert [r["sequence_id"] for r in enrollments(db)] == [receipts]
    dispatch(db)
    [mail] = outbox(db)
    assert mail["subject"] == "Your receipt"
    assert mail["list_unsubscribe"] is None
    assert "nsubscribe" not in mail["html_body"] and "nsubscribe" not in mail["text_body"]
    assert news  # the marketing sequence enrolled nobody


def test_unsubscribing_leaves_receipts_be_and_a_bounce_stops_them(db):
    sequence(db, "order", message_class="transactional", steps=[(0, "receipt", "<p>r</p>"), (1, "again", "<p>a</p>")])
    sequence(db, "order", steps=[(0, "news", "<p>n</p>"), (1, "more", "<p>m</p>")], name="news")
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    order = add_tag(db, "order")
    tag(db, ada, order)
    tag(db, bob, order)
    dispatch(db)  # step 1 of each queued
    db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (ada,))
    db.execute("update drip.contacts set bounced_at = now() where id = %s", (bob,))
    rows = db.execute("select c.email, s.message_class, e.status, o.status as mail from drip.enrollments e "
                      "join drip.contacts c on c.id = e.contact_id join drip.sequences s on s.id = e.sequence_id "
                      "join drip.outbox o on o.enrollment_id = e.id and o.contact_id = e.contact_id "
                      "order by 1, 2").fetchall()
    assert [(r["email"], r["message_class"], r["status"], r["mail"]) for r in rows] == [
        ("ada@example.com", "marketing", "cancelled", "cancelled"),
        ("ada@example.com", "transactional", "active", "queued"),
        ("bob@example.com", "marketing", "cancelled", "cancelled"),
        ("bob@example.com", "transactional", "cancelled", "cancelled")]
    dispatch(db, 1.1)
    assert [r["subject"] for r in outbox(db) if r["status"] == "queued"] == ["receipt", "again"]


def test_a_bounced_contact_is_never_enrolled_even_for_receipts(db):
    sequence(db, "order", message_class="transactional")
    ada = add_contact(db, "ada@example.com")
    db.execute("update drip.contacts set bounced_at = now() where id = %s", (ada,))
    tag(db, ada, add_tag(db, "order"))
    assert enrollments(db) == []


def test_leaving_a_topic_cancels_that_topics_marketing_in_the_writers_transaction(db):
    tips, events = add_topic(db, "Product tips"), add_topic(db, "Events")
    tips_seq = sequence(db, "go", topic=tips, steps=[(0, "tip", "<p>t</p>"), (24, "tip 2", "<p>t</p>")], name="tips")
    events_seq = sequence(db, "go", topic=events, steps=[(0, "event", "<p>e</p>"), (24, "e2", "<p>e</p>")],
                          name="events")
    receipts = sequence(db, "go", topic=tips, message_class="transactional", name="receipts")
    ada = add_contact(db, "ada@example.com")
    go = add_tag(db, "go")
    tag(db, ada, go)
    dispatch(db)
    with db.transaction(force_rollback=True):
        db.execute("insert into drip.topic_unsubscribes (contact_id, topic_id) values (%s, %s)", (ada, tips))
        status = {r["sequence_id"]: r["status"] for r in enrollments(db)}
        assert status == {tips_seq: "cancelled", events_seq: "active", receipts: "completed"}
    assert {r["status"] for r in enrollments(db)} == {"active", "completed"}
    db.execute("insert into drip.topic_unsubscribes (contact_id, topic_id) values (%s, %s)", (ada, tips))
    mail = {r["subject"]: (r["status"], r["last_error"]) for r in outbox(db)}
    assert mail["tip"] == ("cancelled", "contact left the topic") and mail["event"][0] == "queued"
    # never enrolled into the topic again while the row exists; other topics go on
    db.execute("delete from drip.contact_tags")
    tag(db, ada, go)
    assert {r["sequence_id"] for r in enrollments(db) if r["status"] == "active"} == {events_seq, receipts}
    # resubscribing (deleting the row) lets the topic enroll again
    db.execute("delete from drip.topic_unsubscribes")
    db.execute("delete from drip.contact_tags")
    tag(db, ada, go)
    assert tips_seq in {r["sequence_id"] for r in enrollments(db) if r["status"] == "active"}


def test_each_topic_has_its_own_list_id(db):
    db.execute("select drip.publish_mail_settings(%s)", (SETTINGS,))
    tips, events = add_topic(db, "Tips"), add_topic(db, "Events")
    sequence(db, "go", topic=tips, name="a")
    sequence(db, "go", topic=tips, name="b")
    sequence(db, "go", topic=events, name="c")
    none_1, none_2 = sequence(db, "go", name="d"), sequence(db, "go", name="e")
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "go"))
    dispatch(db)
    ids = [r["list_id"] for r in outbox(db)]
    assert ids[0] == ids[1] == f"<topic-{tips}.example.com>"
    assert ids[2] == f"<topic-{events}.example.com>"
    assert ids[3:] == [f"<sequence-{none_1}.example.com>", f"<sequence-{none_2}.example.com>"]


def test_one_click_leaves_the_mails_topic_and_the_page_can_leave_one_or_all(db):
    db.execute("select drip.publish_mail_settings(%s)", (SETTINGS,))
    tips, events = add_topic(db, "Tips"), add_topic(db, "Events")
    sequence(db, "go", topic=tips, name="tips")
    sequence(db, "go", name="general")
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)
    tips_mail, general_mail = outbox(db)
    target = db.execute("select * from drip.unsubscribe_target(%s)", (token_of(tips_mail),)).fetchone()
    assert (target["topic_id"], target["topic_name"], target["topic_unsubscribed"]) == (tips, "Tips", False)
    for _ in range(2):  # repeatable
        assert db.execute("select drip.unsubscribe_by_token(%s) c", (token_of(tips_mail),)).fetchone()["c"] == ada
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
    topics = db.execute("select * from drip.unsubscribe_topics(%s)", (token_of(general_mail),)).fetchall()
    assert [(t["name"], t["unsubscribed"]) for t in topics] == [("Events", False), ("Tips", True)]
    counts = db.execute("select topic_unsubscribes, unsubscribes from drip.step_report where step_id = %s",
                        (tips_mail["step_id"],)).fetchone()
    assert counts == {"topic_unsubscribes": 1, "unsubscribes": 0}
    # the page: another topic, then everything
    db.execute("select drip.unsubscribe_by_token(%s, 'page', %s)", (token_of(general_mail), f"topic:{events}"))
    assert db.execute("select count(*) n from drip.topic_unsubscribes").fetchone()["n"] == 2
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
    db.execute("select drip.unsubscribe_by_token(%s, 'page', 'all')", (token_of(tips_mail),))
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is not None
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        db.execute("select drip.unsubscribe_by_token(%s, 'page', 'nope')", (token_of(tips_mail),))


def test_a_general_mails_one_click_leaves_all_mail(db):
    db.execute("select drip.publish_mail_settings(%s)", (SETTINGS,))
    sequence(db, "go")
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)
    db.execute("select drip.unsubscribe_by_token(%s)", (token_of(outbox(db)[0]),))
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is not None


def add_cap(db, max_messages: int, per: str) -> None:
    db.execute("insert into drip.frequency_caps (max_messages, per) values (%s, %s::interval)", (max_messages, per))


def test_a_cap_defers_the_lower_priority_mail_never_skips_it(db):
    add_cap(db, 1, "1 day")
    low = sequence(db, "go", priority=0, steps=[(0, "low", "<p>l</p>")], name="low")
    high = sequence(db, "go", priority=5, steps=[(0, "high", "<p>h</p>")], name="high")
    receipt = sequence(db, "go", message_class="transactional", steps=[(0, "receipt", "<p>r</p>")], name="r")
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)
    assert sorted(r["subject"] for r in outbox(db)) == ["high", "receipt"]  # the receipt is neither counted nor held
    held = {r["sequence_id"]: r for r in enrollments(db)}[low]
    assert held["status"] == "active" and held["last_step_order_sent"] == 0
    assert db.execute("select %s::timestamptz - (select min(created_at) from drip.outbox) "
                      "between interval '23 hours 59 minutes' and interval '1 day 1 minute' ok",
                      (held["next_step_due_at"],)).fetchone()["ok"]
    assert db.execute("select cap_deferred from drip.step_report where sequence_id = %s", (low,)
                      ).fetchone()["cap_deferred"] == 1
    dispatch(db, 12)
    assert len(outbox(db)) == 2
    dispatch(db, 24.1)
    assert sorted(r["subject"] for r in outbox(db)) == ["high", "low", "receipt"]
    assert {high, receipt}  # used


def test_earlier_mail_counts_and_cancelled_mail_does_not(db):
    seq = sequence(db, "go", steps=[(0, "one", "<p>1</p>"), (1, "two", "<p>2</p>"), (1, "three", "<p>3</p>")])
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "go"))
    dispatch(db)                    # "one" queued before any cap exists
    add_cap(db, 1, "1 day")         # the cap counts it all the same
    dispatch(db, 1.1)
    assert [r["subject"] for r in outbox(db)] == ["one"]
    db.execute("delete from drip.frequency_caps")
    dispatch(db, 25)                # "two" went when the cap allowed; now no cap at all
    assert db.execute("select count(*) n from drip.contact_sends").fetchone()["n"] == 0
    add_cap(db, 1, "1 day")
    db.execute("update drip.outbox set status = 'cancelled'")
    dispatch(db, 26.1)              # "two" was cancelled: not counted, so "three" may go
    assert [r["subject"] for r in outbox(db)] == ["one", "two", "three"]
    assert seq


def test_the_tightest_of_several_caps_decides(db):
    add_cap(db, 3, "1 day")
    add_cap(db, 2, "1 hour")
    for i in range(4):
        sequence(db, "go", steps=[(0, f"m{i}", "<p>x</p>")], name=f"s{i}", priority=-i)
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "go"))
    dispatch(db)
    assert [r["subject"] for r in outbox(db)] == ["m0", "m1"]
    dispatch(db, 1.01)
    assert [r["subject"] for r in outbox(db)] == ["m0", "m1", "m2"]   # the day's cap: 3
    dispatch(db, 2.02)
    assert len(outbox(db)) == 3
    dispatch(db, 24.1)
    assert len(outbox(db)) == 4


def test_concurrent_dispatchers_never_let_a_contact_exceed_a_cap(dsn, db):
    add_cap(db, 2, "1 day")
    for i in range(12):
        sequence(db, "go", steps=[(0, f"m{i}", "<p>x</p>")], name=f"s{i}")
    contacts = [add_contact(db, f"u{i}@example.com") for i in range(5)]
    go = add_tag(db, "go")
    for contact in contacts:
        tag(db, contact, go)

    def work(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            # small batches, so the dispatchers interleave over one contact's many due steps
            for _ in range(8):
                conn.execute("select drip.dispatch_batch(now(), 3)")

    assert run_together(4, work) == []
    per_contact = db.execute("select contact_id, count(*) n from drip.outbox group by contact_id").fetchall()
    assert sorted(r["n"] for r in per_contact) == [2] * 5
    assert db.execute("select count(*) n from drip.enrollments where status = 'active'").fetchone()["n"] == 50


@pytest.mark.parametrize(("statement", "field"), [
    ("insert into drip.topics (name) values ('')", "name"),
    ("insert into drip.topics (name, description) values ('x', repeat('d', 2001))", "description"),
    ("insert into drip.frequency_caps (max_messages, per) values (0, '1 day')", "max_messages"),
    ("insert into drip.frequency_caps (max_messages, per) values (1, '0 seconds')", "per"),
    ("insert into drip.frequency_caps (max_messages, per) values (1, '-1 day')", "per"),
    ("insert into drip.sequences (name, trigger_type, message_class) values ('s', 'tag_added', 'promo')",
     "message_class"),
    ("insert into drip.sequences (name, trigger_type, topic_id) values ('s', 'tag_added', 424242)", "topic_id"),
    ("insert into drip.topic_unsubscribes (contact_id, topic_id) values (424242, 1)", "contact_id"),
])
def test_bad_input_is_refused_naming_the_field(db, statement, field):
    add_topic(db, "First")
    with pytest.raises(psycopg.Error) as caught:
        db.execute(statement)
    if ON_CITUS and error_field(caught.value.diag) is None:
        # a foreign key there, with PostgreSQL's message
        assert isinstance(caught.value, psycopg.errors.ForeignKeyViolation)
        assert f"({field})" in caught.value.diag.message_detail
        return
    assert error_field(caught.value.diag) == field


def test_a_topic_in_use_cannot_be_deleted_and_names_are_unique_case_insensitively(db):
    tips = add_topic(db, "Tips")
    sequence(db, "go", topic=tips)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute("delete from drip.topics where id = %s", (tips,))
    with pytest.raises(psycopg.errors.UniqueViolation):
        add_topic(db, "tips")


def test_prune_keeps_only_what_a_cap_can_still_count(db):
    add_cap(db, 1, "2 days")
    sequence(db, "go", steps=[(0, "one", "<p>1</p>")])
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "go"))
    dispatch(db)
    db.execute("insert into drip.contact_sends select id, now() - interval '3 days', 1 from drip.contacts")
    db.execute("call drip.prune(interval '180 days')")
    assert db.execute("select count(*) n from drip.contact_sends").fetchone()["n"] == 1
    db.execute("delete from drip.frequency_caps")
    assert db.execute("select count(*) n from drip.contact_sends").fetchone()["n"] == 0
