"""The README's three journeys examples, run as written, do what the README says they do."""

import re
from pathlib import Path

import pytest

README = (Path(__file__).parents[2] / "README.md").read_text()


def example(title: str) -> str:
    """The SQL block under the README heading '### Example: <title>'."""
    section = README.split(f"### Example: {title}\n", 1)[1].split("\n### ", 1)[0]
    [sql] = re.findall(r"```sql\n(.*?)```", section, re.S)
    return sql


def run(db, sql: str) -> None:
    with db.transaction():
        db.execute(sql)


def test_the_abandoned_cart(db):
    run(db, example("the abandoned cart"))
    rows = db.execute("select event_key, status from drip.enrollments order by event_key").fetchall()
    assert [(r["event_key"], r["status"]) for r in rows] == [("cart-17", "exited"), ("cart-18", "active")]
    db.execute("call drip.dispatch_due(now() + interval '2 hours')")
    [mail] = db.execute("select subject, html_body from drip.outbox").fetchall()
    assert mail["subject"] == "You left something in your cart"
    assert "your cart of 9 EUR" in mail["html_body"]
    assert 'href="https://shop.example.com/cart/cart-18"' in mail["html_body"]


def test_trial_onboarding_that_branches(db):
    start, later = example("trial onboarding that branches").split("\n-- later", 1)
    later = later.split("\n", 1)[1]
    run(db, start)
    db.execute("call drip.dispatch_due()")                 # the welcome
    run(db, later)                                         # she activates
    db.execute("call drip.dispatch_due()")                 # step 2, due when she activated
    db.execute("call drip.dispatch_due(now() + interval '1 minute')")  # step 3, skipped
    subjects = [r["subject"] for r in db.execute("select subject from drip.outbox order by id").fetchall()]
    assert subjects == ["Welcome to your trial", "Three things active teams do next"]
    assert db.execute("select status from drip.enrollments").fetchone()["status"] == "completed"


@pytest.mark.parametrize("before", [False, True])
def test_a_segment_of_pro_plan_trial_users(db, before):
    if before:  # someone who matched before the segment existed: enrolled by enroll_matching
        db.execute("""insert into drip.contacts (email, attributes)
                      values ('early@example.com', '{"plan": "pro", "trial": true}')""")
    sql = example("a segment of pro-plan trial users")
    setup, rest = sql.split("select drip.enroll_matching", 1)
    run(db, setup)
    matched = db.execute("select drip.enroll_matching" + rest.split(";", 1)[0]).fetchone()
    assert list(matched.values()) == [1 if before else 0]
    run(db, rest.split(";", 1)[1])
    rows = db.execute("select c.email, e.status from drip.enrollments e join drip.contacts c on c.id = e.contact_id "
                      "order by c.email").fetchall()
    expected = [("linus@example.com", "exited")] + ([("early@example.com", "active")] if before else [])
    assert sorted((r["email"], r["status"]) for r in rows) == sorted(expected)
