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


JOURNEY_FILE = '''\
[[sequence]]
name = "Trial onboarding"
trigger_type = "event"
trigger_value = "trial_started"
entry_condition = { attribute = "plan", equals = "pro" }
exit_trigger_type = "event"
exit_trigger_value = "subscribed"
exit_condition = '{"any": [{"tag": "customer"}, {"purchased": true}]}'

[[sequence.step]]
key = "welcome"
subject = "Welcome to your trial, {{FirstName|there}}"
html_body = "<p>Your plan: {{attribute.plan}}</p>"

[[sequence.step]]
key = "active"
delay_hours = 72
wait_for_event = "activated"
send_if = { event = "activated" }
subject = "Three things active teams do next"
html_body = "<p>...</p>"

[[sequence.step]]
key = "nudge"
send_if = { not = { event = "activated" } }
subject = "Need a hand?"
html_body = "<p>...</p>"

[[sequence]]
name = "Pro users"
trigger_type = "segment"
entry_condition = { all = [{ attribute = "plan", equals = "pro" }, { attribute = "seats", gte = 5 }] }

[[sequence.step]]
subject = "Pro tips"
html_body = "<p>...</p>"
'''


def test_apply_writes_the_journeys_fields_and_keeps_what_the_file_leaves_out(dsn, db, tmp_path):
    path = tmp_path / "j.toml"
    path.write_text(JOURNEY_FILE)
    r = pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 0, r.stderr
    trial = db.execute("select * from drip.sequences where name = 'Trial onboarding'").fetchone()
    assert trial["entry_condition"] == {"attribute": "plan", "equals": "pro"}
    assert trial["exit_condition"] == {"any": [{"tag": "customer"}, {"purchased": True}]}
    assert (trial["exit_trigger_type"], trial["exit_trigger_value"]) == ("event", "subscribed")
    steps = db.execute("select key, send_if, wait_for_event from drip.sequence_steps where sequence_id = %s "
                       "order by step_order", (trial["id"],)).fetchall()
    assert [(s["key"], s["send_if"], s["wait_for_event"]) for s in steps] == [
        ("welcome", None, None), ("active", {"event": "activated"}, "activated"),
        ("nudge", {"not": {"event": "activated"}}, None)]
    segment = db.execute("select * from drip.sequences where name = 'Pro users'").fetchone()
    assert segment["trigger_type"] == "segment" and segment["entry_sources"] == ["attribute"]
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"
    # left out: kept; "" clears
    path.write_text(JOURNEY_FILE.replace('send_if = { event = "activated" }\n', "")
                    .replace('wait_for_event = "activated"', 'wait_for_event = ""'))
    r = pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 0 and "wait_for_event" in r.stdout and "send_if" not in r.stdout, r.stdout
    step = db.execute("select send_if, wait_for_event from drip.sequence_steps where key = 'active'").fetchone()
    assert step == {"send_if": {"event": "activated"}, "wait_for_event": None}


def test_apply_refuses_a_bad_condition_naming_its_line_and_writes_nothing(dsn, db, tmp_path):
    path = tmp_path / "j.toml"
    path.write_text(JOURNEY_FILE.replace('send_if = { event = "activated" }',
                                         'send_if = { event = "activated", x = 1 }'))
    r = pgdrip("apply", str(path), dsn=dsn)
    line = JOURNEY_FILE.splitlines().index('send_if = { event = "activated" }') + 1
    assert_one_line_error(r, f"{path}:{line}: send_if:", "unknown key")
    path.write_text(JOURNEY_FILE.replace("exit_condition = '{\"any\"", "exit_condition = '{any"))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), "exit_condition", "not JSON")
    path.write_text(JOURNEY_FILE.replace('trigger_value = "trial_started"\n', ""))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), "trigger_value", "event name")
    assert db.execute("select count(*) n from drip.sequences").fetchone()["n"] == 0
