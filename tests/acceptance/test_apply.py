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


KEYED = textwrap.dedent('''\
    [[sequence]]
    name = "Onboarding"
    trigger_type = "tag_added"
    trigger_value = "new"

    [[sequence.step]]
    key = "hello"
    delay_hours = 0
    subject = "Hello"
    html_body = "<p>Hello</p>"

    [[sequence.step]]
    key = "tips"
    delay_hours = 24
    subject = "Tips"
    html_body = "<p>Tips</p>"

    [[sequence.step]]
    key = "offer"
    delay_hours = 24
    subject = "Offer"
    html_body = "<p>Offer</p>"
''')

# KEYED with a step 'video' inserted between 'hello' and 'tips'
INSERTED = textwrap.dedent('''\
    [[sequence]]
    name = "Onboarding"
    trigger_type = "tag_added"
    trigger_value = "new"

    [[sequence.step]]
    key = "hello"
    delay_hours = 0
    subject = "Hello"
    html_body = "<p>Hello</p>"

    [[sequence.step]]
    key = "video"
    delay_hours = 24
    subject = "Watch this"
    html_body = "<p>Video</p>"

    [[sequence.step]]
    key = "tips"
    delay_hours = 24
    subject = "Tips"
    html_body = "<p>Tips</p>"

    [[sequence.step]]
    key = "offer"
    delay_hours = 24
    subject = "Offer"
    html_body = "<p>Offer</p>"
''')


def test_a_step_inserted_in_the_middle_is_never_sent_twice_and_dry_run_says_who_it_affects(dsn, db, tmp_path):
    assert pgdrip("apply", str(write(tmp_path, KEYED)), dsn=dsn).returncode == 0
    t = db.execute("insert into drip.tags (name) values ('new') returning id").fetchone()["id"]
    for i in range(3):
        c = db.execute("insert into drip.contacts (email) values (%s) returning id", (f"u{i}@example.com",)
                       ).fetchone()["id"]
        db.execute("insert into drip.contact_tags values (%s, %s)", (c, t))
    db.execute("call drip.dispatch_due('2030-01-01')")            # all three received Hello
    db.execute("update drip.enrollments set next_step_due_at = '2100-01-01' where contact_id = "
               "(select id from drip.contacts where email = 'u0@example.com')")
    db.execute("call drip.dispatch_due('2030-01-02 01:00')")      # two received Tips too
    dry = pgdrip("apply", str(write(tmp_path, INSERTED)), "--dry-run", dsn=dsn)
    assert dry.returncode == 0, dry.stderr
    assert ("+ sequence 'Onboarding' step 2 (1 in-flight enrollment(s) will receive it, "
            "2 in-flight enrollment(s) are past it and skip it)") in dry.stdout.splitlines()
    assert ("~ sequence 'Onboarding' step 3: moved from step 2 (1 in-flight enrollment(s) will receive it)"
            in dry.stdout.splitlines())
    assert db.execute("select count(*) n from drip.sequence_steps").fetchone()["n"] == 3  # nothing applied
    assert pgdrip("apply", str(write(tmp_path, INSERTED)), dsn=dsn).returncode == 0
    db.execute("update drip.enrollments set next_step_due_at = '2030-01-01' where status = 'active'")
    for n in range(6):
        db.execute("call drip.dispatch_due(%s::timestamptz + %s * interval '100 hours')", ("2030-02-01", n))
    sent: dict[str, list[str]] = {}
    for r in db.execute("select to_address, subject from drip.outbox order by id"):
        sent.setdefault(r["to_address"], []).append(r["subject"])
    assert sent == {"u0@example.com": ["Hello", "Watch this", "Tips", "Offer"],
                    "u1@example.com": ["Hello", "Tips", "Offer"],
                    "u2@example.com": ["Hello", "Tips", "Offer"]}
    assert pgdrip("apply", str(write(tmp_path, INSERTED)), dsn=dsn).stdout.strip() == "no changes"
