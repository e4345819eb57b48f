"""Behaviour 14: a mailbox that does not exist bounces the contact, in the transaction that
records the failure; a policy refusal fails the message only."""

import json

import pytest

from tests.acceptance.cli import pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, dispatch, tag


def two_sequences(db) -> int:
    add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (1, "two", "<p>2</p>")], name="a")
    add_sequence(db, "tag_added", None, steps=[(0, "other", "<p>o</p>"), (2, "later", "<p>l</p>")], name="b")
    return add_tag(db, "x")


@pytest.mark.parametrize("email", ["reject@example.com", "unknown@example.com"])
def test_a_dead_mailbox_bounces_the_contact_and_stops_everything_for_it(dsn, db, smtp, tmp_home, email):
    t = two_sequences(db)
    dead, alive = add_contact(db, email), add_contact(db, "ok@example.com")
    tag(db, dead, t)
    tag(db, alive, t)
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", "--batch-size", "1", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    contact = db.execute("select bounced_at from drip.contacts where id = %s", (dead,)).fetchone()
    assert contact["bounced_at"] is not None
    mine = db.execute("select status, last_error from drip.outbox where contact_id = %s order by id",
                      (dead,)).fetchall()
    # the first message failed with the server's answer; the other one (queued in the same
    # dispatch) was cancelled when the contact bounced, and never reached the server
    assert mine[0]["status"] == "failed" and mine[0]["last_error"].startswith("550")
    assert [m["status"] for m in mine[1:]] == ["cancelled"] and mine[1]["last_error"] == "contact bounced"
    assert [rcpt for _, rcpt in smtp.handler.envelopes] == [["ok@example.com"], ["ok@example.com"]]
    assert {e["status"] for e in db.execute("select status from drip.enrollments where contact_id = %s",
                                            (dead,)).fetchall()} == {"cancelled"}
    # kept out of every sequence until bounced_at is cleared
    add_sequence(db, "tag_added", None, name="c")
    tag(db, dead, add_tag(db, "y"))
    assert db.execute("select count(*) n from drip.enrollments where contact_id = %s and status = 'active'",
                      (dead,)).fetchone()["n"] == 0
    assert db.execute("select bounced from drip.status").fetchone()["bounced"] == 1
    status = pgdrip("status", "--json", dsn=dsn)
    assert json.loads(status.stdout)["bounced"] == 1
    assert "bounced:       1 contact(s)" in pgdrip("status", dsn=dsn).stdout
    db.execute("update drip.contacts set bounced_at = null where id = %s", (dead,))
    tag(db, dead, add_tag(db, "z"))
    assert db.execute("select count(*) n from drip.enrollments where contact_id = %s and status = 'active'",
                      (dead,)).fetchone()["n"] == 3


def test_a_policy_refusal_fails_the_message_only(dsn, db, smtp, tmp_home):
    t = two_sequences(db)
    c = add_contact(db, "policy@example.com")
    tag(db, c, t)
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert db.execute("select bounced_at from drip.contacts where id = %s", (c,)).fetchone()["bounced_at"] is None
    rows = db.execute("select status, last_error from drip.outbox where contact_id = %s", (c,)).fetchall()
    assert {r["status"] for r in rows} == {"failed"} and all("5.7.1" in r["last_error"] for r in rows)
    assert {e["status"] for e in db.execute("select status from drip.enrollments").fetchall()} == {"active"}
    dispatch(db, 3)  # the sequences go on
    assert db.execute("select count(*) n from drip.outbox where status = 'queued'").fetchone()["n"] == 2


def test_the_generic_550_mailbox_unavailable_fails_the_message_only(dsn, db, smtp, tmp_home):
    """RFC 5321's "550 ... mailbox unavailable" is also what servers answer for policy refusals:
    behaviour 14 bounces only 5.1.x, 5.2.1, or a 550 that says the mailbox does not exist."""
    t = two_sequences(db)
    c = add_contact(db, "unavailable@example.com")
    tag(db, c, t)
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert db.execute("select bounced_at from drip.contacts where id = %s", (c,)).fetchone()["bounced_at"] is None
    rows = db.execute("select status, last_error from drip.outbox where contact_id = %s", (c,)).fetchall()
    assert [r["status"] for r in rows] == ["failed", "failed"]
    assert all(r["last_error"] == "550 Requested action not taken: mailbox unavailable" for r in rows)
    assert {e["status"] for e in db.execute("select status from drip.enrollments").fetchall()} == {"active"}
