"""`pgdrip event` and `pgdrip enroll-matching` through the real entry point."""

import json

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence


def test_event_records_the_event_and_enrolls(dsn, db):
    seq = add_sequence(db, "event", "cart_abandoned")
    ada = add_contact(db, "ada@example.com")
    r = pgdrip("event", "ADA@example.com", "cart_abandoned", "--key", "c-17", "--data", '{"total": 42.5}', dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(f"recorded for contact {ada}; 1 new enrollment(s)")
    row = db.execute("select e.contact_id, e.name, e.key, e.payload, n.sequence_id, n.event_key from drip.events e "
                     "join drip.enrollments n on n.event_id = e.id and n.contact_id = e.contact_id").fetchone()
    assert row == {"contact_id": ada, "name": "cart_abandoned", "key": "c-17", "payload": {"total": 42.5},
                   "sequence_id": seq, "event_key": "c-17"}
    r = pgdrip("event", str(ada), "cart_abandoned", "--key", "c-17", dsn=dsn)  # same key while active
    assert r.returncode == 0 and r.stdout.strip().endswith("0 new enrollment(s)"), r.stderr


def test_event_refuses_bad_input_in_one_line_and_writes_nothing(dsn, db):
    add_contact(db, "ada@example.com")
    assert_one_line_error(pgdrip("event", "nobody@example.com", "x", dsn=dsn), "no contact")
    r = pgdrip("event", "ada@example.com", "x", "--data", "{nope", dsn=dsn)
    assert r.returncode != 0 and "--data" in r.stderr and "Traceback" not in r.stderr
    r = pgdrip("event", "ada@example.com", "x", "--data", "[1]", dsn=dsn)
    assert r.returncode != 0 and "JSON object" in r.stderr
    assert_one_line_error(pgdrip("event", "ada@example.com", " ", dsn=dsn), "event name", "name")
    assert db.execute("select count(*) n from drip.events").fetchone()["n"] == 0


def test_enroll_matching_enrolls_who_matches_now(dsn, db):
    add_contact(db, "ada@example.com", attributes=json.dumps({"plan": "pro"}))
    add_contact(db, "bob@example.com")
    seq = db.execute("""insert into drip.sequences (name, trigger_type, entry_condition)
                        values ('pro', 'segment', '{"attribute": "plan", "equals": "pro"}') returning id"""
                     ).fetchone()["id"]
    db.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
               "values (%s, 1, 'hi', '<p>x</p>')", (seq,))
    r = pgdrip("enroll-matching", str(seq), dsn=dsn)
    assert r.returncode == 0 and r.stdout.strip() == f"enrolled 1 contact(s) into sequence {seq}", r.stderr
    other = add_sequence(db, "tag_added", "x")
    assert_one_line_error(pgdrip("enroll-matching", str(other), dsn=dsn), "not a segment sequence")
    assert_one_line_error(pgdrip("enroll-matching", "99999", dsn=dsn), "does not exist")
