"""`pgdrip topics`, `pgdrip caps` and the audience settings in `pgdrip apply`, through the real
entry point."""

import json

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence


def test_topics_add_list_unsubscribe_resubscribe_remove(dsn, db):
    r = pgdrip("topics", "add", "Product tips", "--description", "A tip a week", dsn=dsn)
    assert r.returncode == 0 and r.stdout.startswith("topic "), r.stderr
    seq = add_sequence(db, "tag_added", "x")
    topic = db.execute("select id from drip.topics").fetchone()["id"]
    db.execute("update drip.sequences set topic_id = %s where id = %s", (topic, seq))
    ada = add_contact(db, "ada@example.com")
    assert pgdrip("topics", "unsubscribe", "ada@example.com", "product TIPS", dsn=dsn).stdout.strip() == "unsubscribed"
    assert pgdrip("topics", "unsubscribe", str(ada), str(topic), dsn=dsn).stdout.strip() == (
        "was already unsubscribed from that topic")
    listed = json.loads(pgdrip("topics", "list", "--json", dsn=dsn).stdout)
    assert listed == [{"id": topic, "name": "Product tips", "sequences": 1, "unsubscribed": 1,
                       "description": "A tip a week"}]
    assert pgdrip("topics", "resubscribe", "ada@example.com", "Product tips", dsn=dsn).stdout.strip() == "resubscribed"
    assert_one_line_error(pgdrip("topics", "remove", "Product tips", dsn=dsn), "used by a sequence")
    db.execute("update drip.sequences set topic_id = null")
    assert pgdrip("topics", "remove", "Product tips", dsn=dsn).returncode == 0
    assert db.execute("select count(*) n from drip.topics").fetchone()["n"] == 0


def test_topics_refuse_bad_input_in_one_line(dsn, db):
    assert_one_line_error(pgdrip("topics", "add", " ", dsn=dsn), "topic name")
    assert_one_line_error(pgdrip("topics", "unsubscribe", "nobody@example.com", "x", dsn=dsn), "no contact")
    add_contact(db, "ada@example.com")
    assert_one_line_error(pgdrip("topics", "unsubscribe", "ada@example.com", "nope", dsn=dsn), "no topic")


def test_caps_add_list_remove_and_refuse_bad_ones(dsn, db):
    assert pgdrip("caps", "add", "1", "1 day", dsn=dsn).returncode == 0
    assert json.loads(pgdrip("caps", "list", "--json", dsn=dsn).stdout)[0]["max_messages"] == 1
    assert_one_line_error(pgdrip("caps", "add", "0", "1 day", dsn=dsn), "max_messages")
    assert_one_line_error(pgdrip("caps", "add", "1", "forever", dsn=dsn), "interval")
    assert_one_line_error(pgdrip("caps", "remove", "999", dsn=dsn), "no cap")
    cap = db.execute("select id from drip.frequency_caps").fetchone()["id"]
    assert pgdrip("caps", "remove", str(cap), dsn=dsn).returncode == 0


FILE = '''\
[[sequence]]
name = "Receipts"
trigger_type = "after_purchase"
message_class = "transactional"

[[sequence.step]]
subject = "Your receipt"
html_body = "<p>Thanks</p>"

[[sequence]]
name = "Tips"
trigger_type = "tag_added"
trigger_value = "tips"
topic = "product tips"
priority = 5

[[sequence.step]]
subject = "A tip"
html_body = "<p>Tip</p>"
'''


def test_apply_sets_class_topic_and_priority(dsn, db, tmp_path):
    topic = db.execute("insert into drip.topics (name) values ('Product tips') returning id").fetchone()["id"]
    path = tmp_path / "a.toml"
    path.write_text(FILE)
    r = pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 0, r.stderr
    rows = db.execute("select name, message_class, topic_id, priority from drip.sequences order by name").fetchall()
    assert [tuple(r.values()) for r in rows] == [("Receipts", "transactional", None, 0),
                                                 ("Tips", "marketing", topic, 5)]
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"
    path.write_text(FILE.replace('topic = "product tips"', 'topic = "nope"'))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), "topic", "does not exist")
    path.write_text(FILE.replace('"transactional"', '"receipts"'))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), "message_class")
