"""Issue 18, section 5: one home for each rule. The CLI and the runner call the SQL that owns a
rule and pass its answer on; the tests replace that SQL in the test's database and watch the
Python side follow it (a Python copy of the rule would not)."""

import re
import textwrap
from pathlib import Path

import pgdrip
from tests.acceptance.cli import pgdrip as run_pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, tag

RUNNER = Path(pgdrip.__file__).parent


def _spy(db, signature: str, kind: str = "function") -> None:
    """Renames drip.NAME(...) to drip.NAME_real, so a stand-in that notes its calls can take its
    name (the stand-in is created by the test)."""
    name = signature.split("(")[0]
    db.execute("create table if not exists public.calls (name text, arg text)")
    db.execute(f"alter {kind} drip.{signature} rename to {name}_real")


def calls(db, name: str) -> list[str]:
    return [r["arg"] for r in db.execute("select arg from public.calls where name = %s", (name,))]


# --- the unsubscribe token: computed only in SQL ------------------------------------------

def test_the_python_check_of_an_unsubscribe_token_is_the_databases_answer(db):
    import pgdrip.settings as settings

    assert not hasattr(settings, "unsubscribe_token")  # no second HMAC in Python
    secret = "s3cret-s3cret-s3cret"
    real = db.execute("select drip.unsubscribe_token(drip.hmac_pads(convert_to(%s, 'UTF8')), 7) as t",
                      (secret,)).fetchone()["t"]
    assert settings.verify_unsubscribe_token(db, secret, 7, real)
    assert not settings.verify_unsubscribe_token(db, secret, 8, real)
    # change the rule in the database: the Python check follows it
    db.execute("create or replace function drip.unsubscribe_token(p_key bytea[], p_contact_id bigint) returns text "
               "language sql immutable return 'token-' || p_contact_id")
    assert settings.verify_unsubscribe_token(db, secret, 7, "token-7")
    assert not settings.verify_unsubscribe_token(db, secret, 7, real)


# --- no direct writes to sequences and steps ------------------------------------------------

DIRECT_WRITE = re.compile(r"\b(update|insert\s+into|delete\s+from)\s+drip\.(sequences|sequence_steps)\b", re.I)


def test_no_python_writes_sequences_or_steps_but_through_their_functions():
    found = [f"{p.relative_to(RUNNER)}: {m.group(0)}" for p in RUNNER.rglob("*.py")
             for m in DIRECT_WRITE.finditer(p.read_text())]
    assert found == []


def test_sequences_and_steps_switch_through_set_sequence_active_and_set_step_active(dsn, db):
    seq = add_sequence(db, steps=[(0, "One", "<p>1</p>")], name="News")
    step = db.execute("select id from drip.sequence_steps").fetchone()["id"]
    for name in ("set_sequence_active", "set_step_active"):
        _spy(db, f"{name}(bigint, boolean)")
        db.execute(f"create function drip.{name}(p_id bigint, p_active boolean) returns boolean language sql "
                   f"begin atomic insert into public.calls values ('{name}', p_id || ':' || p_active); "
                   f"select drip.{name}_real(p_id, p_active); end")
    assert run_pgdrip("sequences", "deactivate", str(seq), dsn=dsn).returncode == 0
    assert run_pgdrip("steps", "deactivate", str(step), dsn=dsn).returncode == 0
    assert calls(db, "set_sequence_active") == [f"{seq}:false"]
    assert calls(db, "set_step_active") == [f"{step}:false"]
    assert db.execute("select active from drip.sequences").fetchone()["active"] is False
    assert db.execute("select active from drip.sequence_steps").fetchone()["active"] is False
    r = run_pgdrip("sequences", "activate", "424242", dsn=dsn)
    assert r.returncode == 1 and "sequence 424242 does not exist" in r.stderr  # the function's own error


# --- pgdrip apply: a key left out of the file keeps the database's value ----------------------

FILE = textwrap.dedent('''\
    [[sequence]]
    name = "News"
    trigger_type = "tag_added"
    trigger_value = "news"

    [[sequence.step]]
    delay_hours = 0
    subject = "Hello"
    html_body = "<p>Hi</p>"
''')


def test_apply_leaves_what_the_file_does_not_say_as_the_database_has_it(dsn, db, tmp_path):
    path = tmp_path / "campaigns.toml"
    path.write_text(FILE)
    assert run_pgdrip("apply", str(path), dsn=dsn).returncode == 0
    seq = db.execute("select * from drip.sequences").fetchone()
    # a new sequence gets what drip.save_sequence gives a new sequence
    assert (seq["active"], seq["time_zone"], seq["reentry"]) == (True, "UTC", "after_completion")
    # someone switches it off and narrows it, in the database
    db.execute("select drip.set_sequence_active(%s, false)", (seq["id"],))
    db.execute("""select drip.save_sequence(%s, '{"time_zone": "Europe/Berlin", "send_days": [1, 2, 3, 4, 5],
                  "description": "weekdays only"}')""", (seq["id"],))
    again = run_pgdrip("apply", str(path), dsn=dsn)
    assert again.returncode == 0 and again.stdout.strip() == "no changes", again.stdout + again.stderr
    row = db.execute("select * from drip.sequences").fetchone()
    assert (row["active"], row["time_zone"], row["send_days"], row["description"]) == \
        (False, "Europe/Berlin", [1, 2, 3, 4, 5], "weekdays only")
    # what the file does say wins, and is reported as the database wrote it
    path.write_text(FILE.replace('trigger_value = "news"', 'trigger_value = "news"\nactive = true\n'
                                 'time_zone = "europe/berlin"'))
    changed = run_pgdrip("apply", str(path), dsn=dsn)
    assert changed.stdout.splitlines() == ["~ sequence 'News': active", "applied 1 change(s)"], changed.stdout
    row = db.execute("select * from drip.sequences").fetchone()
    assert (row["active"], row["time_zone"], row["send_days"]) == (True, "Europe/Berlin", [1, 2, 3, 4, 5])


def test_apply_lets_the_database_judge_a_time_of_day(dsn, db, tmp_path):
    path = tmp_path / "campaigns.toml"
    path.write_text(FILE.replace('trigger_value = "news"', 'trigger_value = "news"\nsend_window_start = "9am"\n'
                                 'send_window_end = "17:00"'))
    r = run_pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 1 and ":5: send_window_start:" in r.stderr and "9am" in r.stderr, r.stderr
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 0


# --- pgdrip dispatch reports what the database says it queued ---------------------------------

def test_dispatch_reports_the_count_dispatch_due_returns(dsn, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (0, "Two", "<p>2</p>")])
    news = add_tag(db, "news")
    for i in range(3):
        tag(db, add_contact(db, f"u{i}@example.com"), news)
    db.execute("insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body, status) "
               "select e.id, st.id, e.contact_id, 'old@example.com', 's', 'b', 'sent' from drip.enrollments e "
               "join drip.sequence_steps st on st.sequence_id = %s and st.step_order = 2 limit 1", (seq,))
    r = run_pgdrip("dispatch", dsn=dsn)
    assert r.returncode == 0 and r.stdout.strip() == "dispatched: 3 message(s) queued", r.stdout + r.stderr
    # the number is the procedure's answer, not a count of the outbox before and after
    db.execute("create or replace procedure drip.dispatch_due(p_now timestamptz default now(), "
               "inout queued bigint default null) language plpgsql as $$ begin queued := 42; end $$")
    r = run_pgdrip("dispatch", dsn=dsn)
    assert r.stdout.strip() == "dispatched: 42 message(s) queued", r.stdout + r.stderr


# --- the runner sweeps by calling drip.sweep_due --------------------------------------------

def test_the_runner_sweeps_through_sweep_due(dsn, db, tmp_home):
    add_sequence(db, "anniversary", "birthday", steps=[(0, "Happy birthday", "<p>Cake</p>")])
    today = db.execute("select (now() at time zone 'UTC')::date as d").fetchone()["d"]
    add_contact(db, "ada@example.com", birthday=today.replace(year=1990) if not (today.month == 2 and today.day == 29)
                else today.replace(year=1992))
    _spy(db, "sweep_due(integer, text, date[])", "procedure")
    db.execute("create procedure drip.sweep_due(p_catchup_days integer default 7, p_runner text default 'sweep_due', "
               "inout swept date[] default null) language plpgsql as $$ begin "
               "insert into public.calls values ('sweep_due', p_runner); commit; "
               "call drip.sweep_due_real(p_catchup_days, p_runner, swept); end $$")
    r = run_pgdrip("run", "--once", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    [runner] = calls(db, "sweep_due")
    assert re.fullmatch(r".+:\d+", runner)  # the runner's name: host:pid
    claimed = db.execute("select sweep_date, claimed_by from drip.sweeps order by sweep_date").fetchall()
    assert claimed and {c["claimed_by"] for c in claimed} == {runner}
    assert f"anniversary sweep done for {today}" in r.stderr
    assert db.execute("select count(*) as n from drip.outbox where to_address = 'ada@example.com'").fetchone()["n"] == 1
