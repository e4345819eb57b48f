"""Behaviour 8 and issue 6: malformed input through SQL gets one clear error naming the field,
and writes nothing."""

import re

import psycopg
import pytest

from tests.helpers import error_field, not_on_citus

LONG = "x" * 100_000

SEQ = "insert into drip.sequences (name, trigger_type, trigger_value) values (%s, %s, %s)"
STEP = ("insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
        "values ((select min(id) from drip.sequences), %s, %s, %s, %s)")
CONTACT = "insert into drip.contacts (email, first_name, last_name) values (%s, %s, %s)"
SETTING = "insert into drip.sequences (name, trigger_type, {}) values ('s', 'tag_added', %s)"
VARIANT = "insert into drip.step_variants (step_id, name, subject, html_body, weight) values (%s, %s, %s, %s, %s)"
FIRST_STEP = "first step"  # replaced by the base step's id

REFERENCE = not_on_citus(reason="a foreign key refuses it there, with PostgreSQL's own message and no hint")

CASES = [
    # sequences: trigger type and value
    ("unknown trigger type", SEQ, ("s", "tag_removed", None), "trigger_type"),
    ("NULL trigger type", SEQ, ("s", None, None), "trigger_type"),
    ("trigger type in caps", SEQ, ("s", "TAG_ADDED", None), "trigger_type"),
    ("trigger type injection", SEQ, ("s", "tag_added'; drop table drip.contacts; --", None), "trigger_type"),
    ("anniversary without value", SEQ, ("s", "anniversary", None), "trigger_value"),
    ("anniversary bad value", SEQ, ("s", "anniversary", "wedding"), "trigger_value"),
    ("anniversary value in caps", SEQ, ("s", "anniversary", "Birthday"), "trigger_value"),
    ("group id not a number", SEQ, ("s", "group_added", "vip"), "trigger_value"),
    ("group id negative", SEQ, ("s", "group_added", "-3"), "trigger_value"),
    ("group id empty", SEQ, ("s", "group_added", ""), "trigger_value"),
    ("group id with spaces", SEQ, ("s", "group_added", " 4"), "trigger_value"),
    ("group id too large", SEQ, ("s", "group_added", "9" * 30), "trigger_value"),
    ("mailing id not a number", SEQ, ("s", "after_first_click", "abc"), "trigger_value"),
    ("mailing id unicode digits", SEQ, ("s", "after_first_click", "٣"), "trigger_value"),
    ("empty tag value", SEQ, ("s", "tag_added", "  "), "trigger_value"),
    ("tag value with newline", SEQ, ("s", "tag_added", "a\nb"), "trigger_value"),
    ("huge tag value", SEQ, ("s", "tag_added", LONG), "trigger_value"),
    ("product id with NUL-like control", SEQ, ("s", "after_purchase", "a\x01b"), "trigger_value"),
    ("empty sequence name", SEQ, ("", "tag_added", None), "name"),
    ("blank sequence name", SEQ, ("   ", "tag_added", None), "name"),
    ("huge sequence name", SEQ, (LONG, "tag_added", None), "name"),
    ("sequence name with newline", SEQ, ("a\r\nb", "tag_added", None), "name"),
    # steps
    ("negative delay", STEP, (1, -1, "s", "b"), "delay_hours"),
    ("negative fractional delay", STEP, (1, -0.001, "s", "b"), "delay_hours"),
    ("absurd delay", STEP, (1, 10**9, "s", "b"), "delay_hours"),
    ("empty subject", STEP, (1, 0, "", "b"), "subject"),
    ("blank subject", STEP, (1, 0, " \t ", "b"), "subject"),
    ("subject with CRLF header injection", STEP, (1, 0, "Hi\r\nBcc: x@example.com", "b"), "subject"),
    ("subject with bare LF", STEP, (1, 0, "Hi\nthere", "b"), "subject"),
    ("subject with unicode line separator", STEP, (1, 0, "Hi\u2028there", "b"), "subject"),
    ("huge subject", STEP, (1, 0, LONG, "b"), "subject"),
    ("unknown merge tag in subject", STEP, (1, 0, "Hi {{Name}}", "b"), "subject"),
    ("merge tag injection in subject", STEP, (1, 0, "{{FirstName}}{{drop table}}", "b"), "subject"),
    ("unknown merge tag in body", STEP, (1, 0, "s", "{{Company}}"), "html_body"),
    ("unclosed merge tag in body", STEP, (1, 0, "s", "Hi {{FirstName"), "html_body"),
    ("stray closing braces", STEP, (1, 0, "s", "Hi }} there"), "html_body"),
    ("nested merge tags", STEP, (1, 0, "s", "{{FirstName|{{Email}}}}"), "html_body"),
    ("empty body", STEP, (1, 0, "s", ""), "html_body"),
    ("zero step order", STEP, (0, 0, "s", "b"), "step_order"),
    ("negative step order", STEP, (-2, 0, "s", "b"), "step_order"),
    # contacts
    ("email without at", CONTACT, ("nobody", None, None), "email"),
    ("email empty", CONTACT, ("", None, None), "email"),
    ("email with display name", CONTACT, ("Ada <ada@example.com>", None, None), "email"),
    ("email with space", CONTACT, ("ada lovelace@example.com", None, None), "email"),
    ("email with CRLF", CONTACT, ("ada@example.com\r\nBcc: x@example.com", None, None), "email"),
    ("email with two ats", CONTACT, ("a@b@example.com", None, None), "email"),
    ("email without domain dot", CONTACT, ("ada@localhost", None, None), "email"),
    ("email too long", CONTACT, ("a" * 250 + "@example.com", None, None), "email"),
    ("email with comma list", CONTACT, ("a@example.com,b@example.com", None, None), "email"),
    ("email with semicolon", CONTACT, ("a@example.com;b@example.com", None, None), "email"),
    ("email ending in dot", CONTACT, ("a@example.", None, None), "email"),
    ("email with tab", CONTACT, ("a\t@example.com", None, None), "email"),
    ("first name with newline", CONTACT, ("a@example.com", "Eve\nBcc", None), "first_name"),
    ("huge first name", CONTACT, ("a@example.com", LONG, None), "first_name"),
    ("last name with control", CONTACT, ("a@example.com", None, "x\x1by"), "last_name"),
    # contacts: the zone
    ("unknown contact zone", "insert into drip.contacts (email, time_zone) values ('z@example.com', %s)",
     ("Mars/Olympus",), "time_zone"),
    # sequences: local time, goal and re-entry
    ("unknown sequence zone", SETTING.format("time_zone"), ("Europe/Atlantis",), "time_zone"),
    ("window end before its start", "insert into drip.sequences (name, trigger_type, send_window_start, "
     "send_window_end) values ('s', 'tag_added', '17:00', %s)", ("09:00",), "send_window_end"),
    ("window end without its start", SETTING.format("send_window_end"), ("17:00",), "send_window_start"),
    ("weekday 8", SETTING.format("send_days"), ([1, 8],), "send_days"),
    ("unknown re-entry rule", SETTING.format("reentry"), ("sometimes",), "reentry"),
    ("unknown goal type", SETTING.format("exit_trigger_type"), ("tag_removed",), "exit_trigger_type"),
    ("goal group not a number", "insert into drip.sequences (name, trigger_type, exit_trigger_type, "
     "exit_trigger_value) values ('s', 'tag_added', 'group_added', %s)", ("vip",), "exit_trigger_value"),
    # steps: the key
    ("step key with a space", "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body, key) "
     "values ((select min(id) from drip.sequences), 1, 's', 'b', %s)", ("my key",), "key"),
    # the scanner list
    ("scanner pattern that is not a regular expression", "insert into drip.bot_user_agents (pattern) values (%s)",
     ("(unclosed",), "pattern"),
    # tags and groups
    ("empty tag name", "insert into drip.tags (name) values (%s)", ("",), "name"),
    ("tag name with newline", "insert into drip.tags (name) values (%s)", ("a\nb",), "name"),
    ("huge group name", "insert into drip.groups (name) values (%s)", (LONG,), "name"),
    # references (checked per statement, like a foreign key; on Citus a foreign key)
    pytest.param("tag for unknown contact", "insert into drip.contact_tags (contact_id, tag_id) "
     "values (%s, (select min(id) from drip.tags))", (987654,), "contact_id", marks=REFERENCE),
    pytest.param("unknown tag", "insert into drip.contact_tags (contact_id, tag_id) "
     "values ((select min(id) from drip.contacts), %s)", (987654,), "tag_id", marks=REFERENCE),
    pytest.param("unknown group", "insert into drip.group_members (group_id, contact_id) "
     "values (%s, (select min(id) from drip.contacts))", (987654,), "group_id", marks=REFERENCE),
    pytest.param("member unknown contact", "insert into drip.group_members (group_id, contact_id) "
     "values ((select min(id) from drip.groups), %s)", (987654,), "contact_id", marks=REFERENCE),
    pytest.param("tag moved to unknown contact", "update drip.contact_tags set contact_id = %s", (987654,),
                 "contact_id", marks=not_on_citus(reason="Citus refuses to change a row's distribution column")),
    # journeys (behaviours 17-22): conditions, waits, events, attributes
    ("entry condition unknown key", SETTING.format("entry_condition"), ('{"tagged": "a"}',), "entry_condition"),
    ("exit condition wrong type", SETTING.format("exit_condition"), ('{"group": "7"}',), "exit_condition"),
    ("send_if empty list", "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body, send_if) "
     "values ((select min(id) from drip.sequences), 7, 's', '<p>b</p>', %s)", ('{"all": []}',), "send_if"),
    ("wait for a blank event", "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body, "
     "wait_for_event) values ((select min(id) from drip.sequences), 7, 's', '<p>b</p>', %s)", (" ",),
     "wait_for_event"),
    ("event without a name", "insert into drip.events (contact_id, name) "
     "values ((select min(id) from drip.contacts), %s)", ("",), "name"),
    ("event with an empty key", "insert into drip.events (contact_id, name, key) "
     "values ((select min(id) from drip.contacts), 'x', %s)", ("",), "key"),
    ("event payload not an object", "insert into drip.events (contact_id, name, payload) "
     "values ((select min(id) from drip.contacts), 'x', %s)", ("[1]",), "payload"),
    ("attributes not an object", "insert into drip.contacts (email, attributes) values ('at@example.com', %s)",
     ('"pro"',), "attributes"),
    # protecting the audience (behaviours 23-24)
    ("unknown message class", SETTING.format("message_class"), ("newsletter",), "message_class"),
    ("unknown topic", SETTING.format("topic_id"), (987654,), "topic_id"),
    ("NULL priority", SETTING.format("priority"), (None,), "priority"),
    ("empty topic name", "insert into drip.topics (name) values (%s)", (" ",), "name"),
    ("long topic description", "insert into drip.topics (name, description) values ('t', %s)", (LONG,),
     "description"),
    ("cap of no message", "insert into drip.frequency_caps (max_messages, per) values (%s, '1 day')", (0,),
     "max_messages"),
    ("cap over no time", "insert into drip.frequency_caps (max_messages, per) values (1, %s)", ("0 seconds",), "per"),
    # experiments (behaviour 25)
    ("holdout over half", SETTING.format("holdout_percent"), (51,), "holdout_percent"),
    ("negative control weight", "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body, "
     "control_weight) values ((select min(id) from drip.sequences), 7, 's', '<p>b</p>', %s)", (-1,), "control_weight"),
    ("variant of no step", VARIANT, (987654, "B", "s", "<p>b</p>", 1), "step_id"),
    ("variant without a name", VARIANT, (FIRST_STEP, " ", "s", "<p>b</p>", 1), "name"),
    ("variant weight 0", VARIANT, (FIRST_STEP, "B", "s", "<p>b</p>", 0), "weight"),
    ("variant subject of two lines", VARIANT, (FIRST_STEP, "B", "a\nb", "<p>b</p>", 1), "subject"),
    ("variant without a body", VARIANT, (FIRST_STEP, "B", "s", "", 1), "html_body"),
    # functions
    ("unknown prefab", "select drip.create_sequence_from_prefab(%s)", ("newsletter",), "p_prefab"),
    ("NULL prefab", "select drip.create_sequence_from_prefab(%s)", (None,), "p_prefab"),
    ("prefab injection", "select drip.create_sequence_from_prefab(%s)", ("welcome'--",), "p_prefab"),
    ("prefab bad trigger value", "select drip.create_sequence_from_prefab('birthday', 'b', %s)", ("easter",),
     "trigger_value"),
    ("fire unknown trigger", "select drip.fire_trigger(%s, 1)", ("tag_deleted",), "trigger_type"),
    ("fire anniversary bad value", "select drip.fire_trigger('anniversary', 1, %s)", ("someday",),
     "trigger_value"),
    ("fire unknown contact", "select drip.fire_trigger('tag_added', %s, 'x')", (123456789,), "p_contact_id"),
    ("cancel unknown enrollment", "select drip.cancel_enrollment(%s)", (987654,), "p_enrollment_id"),
    ("preview unknown step", "select * from drip.preview_step(%s, 1)", (987654,), "p_step_id"),
    ("sweep NULL date", "call drip.anniversary_sweep(%s)", (None,), "p_date"),
]

TABLES = ["contacts", "tags", "groups", "contact_tags", "group_members", "sequences", "sequence_steps",
          "enrollments", "outbox", "bot_user_agents", "events", "topics", "frequency_caps", "step_variants"]


def snapshot(db) -> dict:
    return {t: db.execute(f"select count(*) n from drip.{t}").fetchone()["n"] for t in TABLES}


def case_id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


@pytest.mark.parametrize("label,sql,params,field", CASES, ids=[case_id(c) for c in CASES])
def test_refused_with_the_field_named_and_nothing_written(db, label, sql, params, field):
    db.execute("insert into drip.sequences (name, trigger_type) values ('base', 'after_purchase')")
    db.execute("insert into drip.contacts (email) values ('base@example.com')")
    db.execute("insert into drip.tags (name) values ('base')")
    db.execute("insert into drip.groups (name) values ('base')")
    db.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t")
    db.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
               "select id, 99, 'base', '<p>base</p>' from drip.sequences")
    before = snapshot(db)
    # the base rows' ids as values (Citus refuses subqueries in INSERT ... VALUES)
    for table in ("sequences", "contacts", "tags", "groups", "sequence_steps"):
        first = f"(select min(id) from drip.{table})"
        if first in sql:
            sql = sql.replace(first, str(db.execute(f"select min(id) m from drip.{table}").fetchone()["m"]))
    params = tuple(db.execute("select min(id) m from drip.sequence_steps").fetchone()["m"] if p == FIRST_STEP else p
                   for p in params)
    with pytest.raises(psycopg.Error) as err:
        db.execute(sql, params)
    diag = err.value.diag
    assert diag.sqlstate in {"22023", "23503", "P0002", "22004"}, (diag.sqlstate, diag.message_primary)
    assert error_field(diag) == field
    assert field in (diag.message_detail or "")
    assert diag.message_hint
    assert len(diag.message_primary) < 200  # a huge value is never echoed whole
    assert snapshot(db) == before


def test_every_field_a_validation_trigger_names_has_a_case(db):
    """The fields come from the database: each `*__validate` trigger function's source, read from
    pg_proc. A field checked there without a case here fails this test."""
    checked = set()
    for row in db.execute("select c.relname, p.prosrc from pg_trigger t join pg_class c on c.oid = t.tgrelid "
                          "join pg_proc p on p.oid = t.tgfoid join pg_namespace n on n.oid = c.relnamespace "
                          "where n.nspname = 'drip' and t.tgname like '%%validate' and not t.tgisinternal"):
        src = row["prosrc"]
        fields = set(re.findall(r"column = '(\w+)'", src)) | set(re.findall(r"check_\w+\(new\.(\w+)", src))
        fields |= {f for pair in re.findall(r"then '(\w+)' else '(\w+)'", src) for f in pair}
        fields |= {f.replace("_type", "_value") for f in fields if f.endswith("trigger_type")}
        checked |= {(row["relname"], f) for f in fields}
    covered = set()
    for case in CASES:
        label, sql, _, field = case.values if hasattr(case, "values") else case
        table = re.search(r"insert into drip\.(\w+)", sql)
        if table:
            covered.add((table.group(1), field))
    assert len(checked) >= 20, checked  # the triggers were found and read
    assert checked - covered == set()
