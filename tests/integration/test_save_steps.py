"""drip.save_steps: editing a step list (insert, reorder, remove, edit) never sends an in-flight
enrollment a step it already received; each enrollment continues after the last step it passed."""

import threading
import time
from collections import Counter

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import (
    add_contact,
    add_sequence,
    add_tag,
    enrollments,
    error_field,
    not_on_citus,
    tag,
    wait_until_blocked,
)

STEPS = [(0, "A", "<p>a</p>"), (24, "B", "<p>b</p>"), (24, "C", "<p>c</p>"), (24, "D", "<p>d</p>")]
FAR = "2100-01-01"


def step(subject: str, key: str | None = None, delay: float = 24) -> dict:
    body = f"<p>{subject.lower()}</p>"
    return {"subject": subject, "html_body": body, "delay_hours": delay} | ({"key": key} if key else {})


def in_flight(db, keys: bool) -> tuple[int, dict[str, int]]:
    """Three active enrollments: one has received A, one A and B, one A, B and C."""
    seq = add_sequence(db, "tag_added", None, steps=STEPS)
    if keys:
        db.execute("update drip.sequence_steps set key = lower(subject) where sequence_id = %s", (seq,))
    t = add_tag(db, "x")
    who = {name: add_contact(db, f"{name}@example.com") for name in ("one", "two", "three")}
    for c in who.values():
        tag(db, c, t)
    for n, keep in enumerate(["one", "two", "three"]):
        # dispatch whoever is due, then park `keep` where it is
        db.execute("call drip.dispatch_due(%s::timestamptz + %s * interval '25 hours')", ("2030-01-01", n))
        db.execute("update drip.enrollments set next_step_due_at = %s where contact_id = %s", (FAR, who[keep]))
    positions = {r["email"]: r["last_step_order_sent"] for r in db.execute(
        "select c.email, e.last_step_order_sent from drip.enrollments e join drip.contacts c on c.id = e.contact_id")}
    assert positions == {"one@example.com": 1, "two@example.com": 2, "three@example.com": 3}
    return seq, who


def save(db, seq: int, steps: list[dict]) -> dict[int, dict]:
    return {r["new_order"]: r for r in db.execute("select * from drip.save_steps(%s, %s)", (seq, Jsonb(steps)))}


def run_to_the_end(db) -> dict[int, list[str]]:
    db.execute("update drip.enrollments set next_step_due_at = '2030-01-01' where status = 'active'")
    for n in range(12):
        db.execute("call drip.dispatch_due(%s::timestamptz + %s * interval '1000 hours')", ("2030-02-01", n))
    assert {e["status"] for e in enrollments(db)} == {"completed"}
    got: dict[int, list[str]] = {}
    for r in db.execute("select contact_id, subject from drip.outbox order by id"):
        got.setdefault(r["contact_id"], []).append(r["subject"])
    return got


@pytest.mark.parametrize("keys", [True, False], ids=["with keys", "matched by text"])
def test_a_step_inserted_in_the_middle(db, keys):
    seq, who = in_flight(db, keys)
    report = save(db, seq, [step("A", "a" if keys else None, 0), step("X", "x" if keys else None),
                            step("B", "b" if keys else None), step("C", "c" if keys else None),
                            step("D", "d" if keys else None)])
    assert [report[i]["action"] for i in range(1, 6)] == ["unchanged", "insert", "move", "move", "move"]
    assert (report[2]["will_receive"], report[2]["skipping"]) == (1, 2)  # "one" gets X; the others are past it
    got = run_to_the_end(db)
    assert got[who["one"]] == ["A", "X", "B", "C", "D"]
    assert got[who["two"]] == ["A", "B", "C", "D"]
    assert got[who["three"]] == ["A", "B", "C", "D"]


def test_matching_by_position_alone_would_have_sent_b_twice(db):
    """What `apply` did before step identity: the file's step 2 written into row 2, and so on.
    It shows the failure the matching above prevents (and that the test can see it)."""
    seq, who = in_flight(db, False)
    for order, (subject, body) in enumerate([("X", "<p>x</p>"), ("B", "<p>b</p>"), ("C", "<p>c</p>")], 2):
        db.execute("update drip.sequence_steps set subject = %s, html_body = %s where sequence_id = %s "
                   "and step_order = %s", (subject, body, seq, order))
    db.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
               "values (%s, 5, 'D', '<p>d</p>')", (seq,))
    got = run_to_the_end(db)
    assert Counter(got[who["two"]])["B"] == 2


def test_steps_reordered_and_removed(db):
    seq, who = in_flight(db, True)
    report = save(db, seq, [step("A", "a", 0), step("C", "c"), step("B", "b")])  # D left out
    assert report[4]["action"] == "deactivate" and report[4]["skipping"] == 3
    got = run_to_the_end(db)
    assert got[who["one"]] == ["A", "C", "B"]
    assert got[who["two"]] == ["A", "B"]  # passed B, which now comes after C: C is skipped, never B again
    assert got[who["three"]] == ["A", "B", "C"]
    assert db.execute("select step_order, active from drip.sequence_steps where key = 'd'").fetchone() == {
        "step_order": 4, "active": False}  # kept, never deleted


def test_an_edit_in_place_is_sent_to_those_who_had_not_reached_it(db):
    seq, who = in_flight(db, False)
    report = save(db, seq, [step("A", delay=0), step("B"), step("C (edited)"), step("D")])
    assert (report[3]["action"], report[3]["changed"], report[3]["will_receive"]) == (
        "update", ["subject", "html_body"], 2)
    got = run_to_the_end(db)
    assert got[who["one"]] == ["A", "B", "C (edited)", "D"]
    assert got[who["three"]] == ["A", "B", "C", "D"]


@pytest.mark.parametrize("steps,column,step_no", [
    ([step("A"), {"subject": "", "html_body": "b"}], "subject", 2),
    ([{"subject": "s", "html_body": "b", "delay_hours": -1}], "delay_hours", 1),
    ([step("A"), {"subject": "s", "html_body": "b", "delay_hours": "soon"}], "delay_hours", 2),
    ([step("A", "a"), step("B", "a")], "key", 2),
    ([step("A", "bad key!")], "key", 1),
    ([{"subject": "s", "html_body": "b", "colour": "red"}], "steps", 1),
    ([{"id": 999999, "subject": "s", "html_body": "b"}], "id", 1),
])
def test_a_bad_step_names_its_field_and_position_and_writes_nothing(db, steps, column, step_no):
    seq = add_sequence(db, "tag_added", None, steps=STEPS)
    before = db.execute("select * from drip.sequence_steps order by id").fetchall()
    with pytest.raises(psycopg.Error) as err:
        save(db, seq, steps)
    assert err.value.diag.sqlstate == "22023"
    assert error_field(err.value.diag) == column
    assert f"step: {step_no}" in err.value.diag.message_detail
    assert db.execute("select * from drip.sequence_steps order by id").fetchall() == before


@not_on_citus(reason='advisory locks are per node: a known limit (docs/SCALE_OUT.md)')
def test_a_dispatch_waits_while_steps_are_renumbered(dsn, db):
    """save_steps holds the steps lock until it commits; a dispatch batch takes it shared, so
    it never reads the old numbering beside the new enrollment positions."""
    seq, who = in_flight(db, True)
    db.execute("update drip.enrollments set next_step_due_at = '2030-01-01' where status = 'active'")
    with psycopg.connect(dsn) as saver:
        saver.execute("select * from drip.save_steps(%s, %s)",
                      (seq, Jsonb([step("A", "a", 0), step("X", "x"), step("B", "b"), step("C", "c"), step("D", "d")])))
        done = threading.Event()

        def dispatch() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("call drip.dispatch_due('2030-02-01')")
            done.set()

        th = threading.Thread(target=dispatch)
        th.start()
        wait_until_blocked(db, "call drip.dispatch_due")
        assert not done.is_set()
        time.sleep(0.1)
        saver.commit()
        th.join(10)
    assert done.is_set()
    newest = {r["contact_id"]: r["subject"]
              for r in db.execute("select contact_id, subject from drip.outbox order by id")}
    assert (newest[who["one"]], newest[who["two"]], newest[who["three"]]) == ("X", "C", "D")
