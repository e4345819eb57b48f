"""`pgdrip apply FILE.toml`: sequences as code."""

import textwrap

from tests.acceptance.cli import assert_one_line_error, pgdrip

FILE = textwrap.dedent('''\
    [[sequence]]
    name = "Welcome"
    trigger_type = "tag_added"
    trigger_value = "welcome"

    [[sequence.step]]
    delay_hours = 0
    subject = "Welcome, {{FirstName|there}}!"
    html_body = "<p>Hi</p>"

    [[sequence.step]]
    delay_hours = 24
    subject = "Day two"
    html_body = "<p>Two</p>"

    [[sequence]]
    name = "Birthdays"
    trigger_type = "anniversary"
    trigger_value = "birthday"

    [[sequence.step]]
    subject = "Happy birthday"
    html_body = "<p>Cake</p>"
''')


def write(tmp_path, text: str):
    path = tmp_path / "campaigns.toml"
    path.write_text(text)
    return path


def steps(db):
    return db.execute("select s.name, st.step_order, st.delay_hours, st.subject, st.active from drip.sequence_steps st "
                      "join drip.sequences s on s.id = st.sequence_id order by s.name, st.step_order").fetchall()


def test_apply_creates_then_is_idempotent_then_updates(dsn, db, tmp_path):
    path = write(tmp_path, FILE)
    dry = pgdrip("apply", str(path), "--dry-run", dsn=dsn)
    assert dry.returncode == 0, dry.stderr
    assert "+ sequence 'Welcome' (2 step(s))" in dry.stdout and "not applied" in dry.stdout
    assert db.execute("select count(*) n from drip.sequences").fetchone()["n"] == 0
    assert pgdrip("apply", str(path), dsn=dsn).returncode == 0
    assert [(s["name"], s["step_order"]) for s in steps(db)] == [("Birthdays", 1), ("Welcome", 1), ("Welcome", 2)]
    again = pgdrip("apply", str(path), dsn=dsn)
    assert again.stdout.strip() == "no changes"
    edited = FILE.replace('subject = "Day two"', 'subject = "Day 2"').replace(
        '[[sequence.step]]\ndelay_hours = 24', '[[sequence.step]]\ndelay_hours = 48')
    out = pgdrip("apply", str(write(tmp_path, edited)), dsn=dsn)
    assert out.stdout.splitlines() == ["~ sequence 'Welcome' step 2: delay_hours, subject", "applied 1 change(s)"]
    assert [(float(s["delay_hours"]), s["subject"]) for s in steps(db) if s["step_order"] == 2] == [(48.0, "Day 2")]


def test_steps_missing_from_the_file_are_deactivated_not_deleted(dsn, db, tmp_path):
    pgdrip("apply", str(write(tmp_path, FILE)), dsn=dsn)
    shorter = FILE.replace('[[sequence.step]]\ndelay_hours = 24\nsubject = "Day two"\nhtml_body = "<p>Two</p>"\n', "")
    r = pgdrip("apply", str(write(tmp_path, shorter)), dsn=dsn)
    assert "- sequence 'Welcome' step 2 (deactivated" in r.stdout, r.stdout + r.stderr
    assert [(s["step_order"], s["active"]) for s in steps(db) if s["name"] == "Welcome"] == [(1, True), (2, False)]


def test_invalid_files_name_the_line_and_field_and_write_nothing(dsn, db, tmp_path):
    cases = [
        (FILE.replace('trigger_type = "anniversary"', 'trigger_type = "anniversay"'), ":18: trigger_type:"),
        (FILE.replace("delay_hours = 24", "delay_hours = -1"), ":12: delay_hours:"),
        (FILE.replace('subject = "Day two"', 'subject = "Hi {{Nickname}}"'), ":13: subject: unknown merge tag"),
        (FILE.replace('html_body = "<p>Cake</p>"', ""), ":21: html_body: required"),
        (FILE.replace('delay_hours = 24', 'delay_hours = "24"'), ":12: delay_hours: has the wrong type"),
        (FILE.replace('trigger_value = "welcome"', 'trigger_value = "welcome"\ncolour = "red"'), ":5: colour:"),
        (FILE + "\n[[sequence]]\nname = 'Welcome'\ntrigger_type = 'tag_added'\n", ":26: name: sequence 'Welcome'"),
        ("[[sequence]\nname = 'x'", "not valid TOML"),
        ("title = 'x'", ":1: unknown top-level key"),
    ]
    for text, fragment in cases:
        r = pgdrip("apply", str(write(tmp_path, text)), dsn=dsn)
        assert_one_line_error(r, fragment)
    assert db.execute("select count(*) n from drip.sequences").fetchone()["n"] == 0
    missing = pgdrip("apply", str(tmp_path / "missing.toml"), dsn=dsn)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
