"""`pgdrip forecast`, `report`, `prune`, and the local-time, goal and re-entry settings in
`apply` and `sequences show`."""

import json
import textwrap

import pytest

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, tag

FILE = textwrap.dedent('''\
    [[sequence]]
    name = "Trial"
    trigger_type = "tag_added"
    trigger_value = "trial"
    time_zone = "Europe/Berlin"
    send_window_start = "09:00"
    send_window_end = 17:30:00
    send_days = [5, 1, 2, 3, 4]
    exit_trigger_type = "after_purchase"
    reentry = "never"

    [[sequence.step]]
    subject = "Welcome to your trial"
    html_body = "<p>Hi</p>"
''')


def test_apply_and_show_the_local_time_goal_and_reentry_settings(dsn, db, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(FILE)
    r = pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 0, r.stderr
    row = db.execute("select time_zone, send_window_start::text s, send_window_end::text e, send_days, "
                     "exit_trigger_type, exit_trigger_value, reentry from drip.sequences").fetchone()
    assert row == {"time_zone": "Europe/Berlin", "s": "09:00:00", "e": "17:30:00", "send_days": [1, 2, 3, 4, 5],
                   "exit_trigger_type": "after_purchase", "exit_trigger_value": None, "reentry": "never"}
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"
    path.write_text(FILE.replace('time_zone = "Europe/Berlin"', 'time_zone = "europe/berlin"'))
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"  # the same zone
    # a key left out keeps the database's value (issue 18); a key given changes it
    path.write_text(FILE.replace('reentry = "never"\n', ""))
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"
    path.write_text(FILE.replace('reentry = "never"', 'reentry = "after_completion"'))
    assert "~ sequence 'Trial': reentry" in pgdrip("apply", str(path), dsn=dsn).stdout
    shown = pgdrip("sequences", "show", "1", dsn=dsn).stdout
    assert "sends: 09:00-17:30, Mon, Tue, Wed, Thu, Fri, in Europe/Berlin" in shown
    assert "goal: after_purchase:any; re-entry: after_completion" in shown


@pytest.mark.parametrize("replace,fragment", [
    (('time_zone = "Europe/Berlin"', 'time_zone = "Europe/Nowhere"'), ":5: time_zone: unknown time zone"),
    (('send_window_start = "09:00"', 'send_window_start = "nine"'),
     ":6: send_window_start: send_window_start must be a time of day"),
    (('send_days = [5, 1, 2, 3, 4]', 'send_days = [0]'), ":8: send_days:"),
    (('send_days = [5, 1, 2, 3, 4]', 'send_days = ["mon"]'), ":8: send_days: must be a list of ISO weekdays"),
    (('reentry = "never"', 'reentry = "twice"'), ":10: reentry:"),
    (('exit_trigger_type = "after_purchase"', 'exit_trigger_type = "paid"'), ":9: exit_trigger_type:"),
])
def test_bad_settings_in_a_file_name_the_line_and_write_nothing(dsn, db, tmp_path, replace, fragment):
    path = tmp_path / "c.toml"
    path.write_text(FILE.replace(*replace))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), fragment)
    assert db.execute("select count(*) n from drip.sequences").fetchone()["n"] == 0


def test_forecast_shows_times_with_their_zone(dsn, db):
    seq = add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")], name="Hi")
    db.execute("update drip.sequences set send_window_start = '09:00', send_window_end = '10:00' where id = %s",
               (seq,))
    tag(db, add_contact(db, "ada@example.com", time_zone="Asia/Tokyo"), add_tag(db, "x"))
    r = pgdrip("forecast", "--until", "3d", dsn=dsn)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["DUE_AT", "LOCAL_TIME", "SEQUENCE", "STEP_ORDER", "CONTACT_EMAIL"]
    assert len(lines) == 3 and all(" UTC " in ln and "Asia/Tokyo" in ln for ln in lines[1:])
    assert all(" 09:" in ln.split("UTC")[1] for ln in lines[1:])  # nine o'clock in Tokyo
    rows = json.loads(pgdrip("forecast", "--until", "3d", "--json", "--contact", "ada@example.com", dsn=dsn).stdout)
    assert [r["step_order"] for r in rows] == [1, 2] and rows[0]["time_zone"] == "Asia/Tokyo"
    assert json.loads(pgdrip("forecast", "--json", "--sequence", "99", dsn=dsn).stdout) == []
    assert_one_line_error(pgdrip("forecast", "--until", "soon", dsn=dsn), "--until must be like 24h")
    assert "Example:" in pgdrip("forecast", "--help").stdout


def test_report_and_prune_from_the_command_line(dsn, db):
    seq = add_sequence(db, "tag_added", None, name="Hi")
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")
    rows = json.loads(pgdrip("report", "--json", dsn=dsn).stdout)
    assert rows == [{"sequence": "Hi", "step_order": 1, "queued": 1, "sent": 0, "failed": 0, "cancelled": 0,
                     "clicks": 0, "bot_clicks": 0, "unique_clickers": 0, "unsubscribes": 0, "skipped": 0,
                     "cap_deferred": 0, "topic_unsubscribes": 0, "held_out": 0, "sequence_id": seq,
                     "step_id": rows[0]["step_id"]}]
    assert "QUEUED" in pgdrip("report", dsn=dsn).stdout
    db.execute("update drip.outbox set status = 'sent', created_at = now() - interval '100 days'")
    r = pgdrip("prune", "--older-than", "90d", dsn=dsn)
    assert r.returncode == 0 and "pruned what was older than 90 days" in r.stdout, r.stderr
    assert "prune: 1 outbox rows deleted" in r.stderr
    assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 0
    assert json.loads(pgdrip("report", "--json", dsn=dsn).stdout)[0]["sent"] == 1
    assert_one_line_error(pgdrip("prune", "--older-than", "5 minutes", dsn=dsn), "1 day or more")
    assert_one_line_error(pgdrip("prune", "--older-than", "a while", dsn=dsn))
    assert "Example:" in pgdrip("prune", "--help").stdout and "Example:" in pgdrip("report", "--help").stdout
