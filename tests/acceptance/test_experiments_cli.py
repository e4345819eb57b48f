"""`pgdrip variants`, `pgdrip report --variants`, `pgdrip promote` and variants in `pgdrip apply`,
through the real entry point."""

import json

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_sequence


def test_variants_add_list_report_pause_promote(dsn, db, tmp_path):
    seq = add_sequence(db, "tag_added", "x", steps=[(0, "A", "<p>a</p>")])
    step = db.execute("select id from drip.sequence_steps").fetchone()["id"]
    body = tmp_path / "b.html"
    body.write_text("<p>b for {{FirstName|you}}</p>")
    r = pgdrip("variants", "add", str(step), "B", "--subject", "B {{FirstName}}", "--html-file", str(body),
               "--weight", "2", dsn=dsn)
    assert r.returncode == 0, r.stderr
    variant = db.execute("select id from drip.step_variants").fetchone()["id"]
    listed = json.loads(pgdrip("variants", "list", "--json", "--sequence", str(seq), dsn=dsn).stdout)
    assert [(v["name"], v["weight"], v["active"]) for v in listed] == [("B", 2, True)]
    report = json.loads(pgdrip("report", "--variants", "--json", dsn=dsn).stdout)
    assert [(r["name"], r["sent"], r["p_value"]) for r in report] == [("control", 0, None), ("B", 0, None)]
    assert pgdrip("variants", "pause", str(variant), dsn=dsn).stdout.strip() == f"variant {variant} paused"
    r = pgdrip("promote", str(variant), dsn=dsn)
    assert r.returncode == 0 and f"step {step}" in r.stdout, r.stderr
    assert db.execute("select subject from drip.sequence_steps").fetchone()["subject"] == "B {{FirstName}}"


def test_variants_refuse_bad_input_in_one_line(dsn, db):
    add_sequence(db, "tag_added", "x")
    step = db.execute("select id from drip.sequence_steps").fetchone()["id"]
    assert_one_line_error(pgdrip("variants", "add", str(step), "B", "--subject", "two\nlines", "--html", "<p>b</p>",
                                 dsn=dsn), "subject")
    assert_one_line_error(pgdrip("variants", "add", "99999", "B", "--subject", "s", "--html", "<p>b</p>", dsn=dsn),
                          "step 99999 does not exist")
    assert_one_line_error(pgdrip("promote", "99999", dsn=dsn), "variant 99999 does not exist")
    assert_one_line_error(pgdrip("variants", "pause", "99999", dsn=dsn), "no variant")
    assert db.execute("select count(*) n from drip.step_variants").fetchone()["n"] == 0


FILE = '''\
[[sequence]]
name = "Launch"
trigger_type = "tag_added"
trigger_value = "launch"
holdout_percent = 10

[[sequence.step]]
key = "announce"
subject = "It's here"
html_body = "<p>A</p>"
control_weight = 2

[[sequence.step.variant]]
name = "B"
subject = "Finally: it's here"
html_body = "<p>B</p>"

[[sequence.step.variant]]
name = "C"
subject = "You asked, we built it"
html_body = "<p>C</p>"
weight = 3
'''


def test_apply_writes_holdout_control_weight_and_variants_by_name(dsn, db, tmp_path):
    path = tmp_path / "v.toml"
    path.write_text(FILE)
    r = pgdrip("apply", str(path), dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert db.execute("select holdout_percent from drip.sequences").fetchone()["holdout_percent"] == 10
    assert db.execute("select control_weight from drip.sequence_steps").fetchone()["control_weight"] == 2
    rows = db.execute("select name, weight, active from drip.step_variants order by name").fetchall()
    assert [tuple(r.values()) for r in rows] == [("B", 1, True), ("C", 3, True)]
    assert pgdrip("apply", str(path), dsn=dsn).stdout.strip() == "no changes"
    # C left out: paused, never deleted; B edited
    path.write_text(FILE.split("[[sequence.step.variant]]\nname = \"C\"")[0].replace("Finally", "At last"))
    r = pgdrip("apply", str(path), dsn=dsn)
    assert "variant 'B': update" in r.stdout and "variant 'C': deactivate" in r.stdout, r.stdout
    rows = db.execute("select name, subject, active from drip.step_variants order by name").fetchall()
    assert [tuple(r.values()) for r in rows] == [("B", "At last: it's here", True),
                                                 ("C", "You asked, we built it", False)]
    path.write_text(FILE.replace('weight = 3', 'weight = 0'))
    assert_one_line_error(pgdrip("apply", str(path), dsn=dsn), "weight")
