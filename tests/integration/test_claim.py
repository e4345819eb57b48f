"""Behaviour 9 in SQL: leases, SKIP LOCKED claims, results, and the lease running out."""

import psycopg
import pytest

from tests.helpers import add_contacts, add_sequence, add_tag, error_field, not_on_citus, outbox, tag_everyone


def queued(db, n: int) -> None:
    add_sequence(db, "tag_added", None)
    add_contacts(db, n)
    tag_everyone(db, add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")


def claim(conn, runner: str, limit: int = 10, lease: int = 60) -> list[dict]:
    return conn.execute("select * from drip.claim_outbox(%s, %s, %s)", (runner, limit, lease)).fetchall()


def test_a_leased_row_is_not_claimed_again_until_its_lease_runs_out(db):
    queued(db, 3)
    first = claim(db, "r1")
    assert len(first) == 3 and {r["status"] for r in first} == {"sending"}
    assert {r["attempts"] for r in first} == {1}
    assert claim(db, "r2") == []  # leased: not sendable
    db.execute("update drip.outbox set next_attempt_at = now() - interval '1 second' where id = %s",
               (first[0]["id"],))  # the lease of a runner that died runs out
    again = claim(db, "r2")
    assert [(r["id"], r["locked_by"], r["attempts"]) for r in again] == [(first[0]["id"], "r2", 2)]
    assert again[0]["message_id"] == first[0]["message_id"]  # stable across attempts


def test_concurrent_claims_share_nothing(dsn, db):
    queued(db, 30)
    with psycopg.connect(dsn) as a, psycopg.connect(dsn) as b:
        a.row_factory = b.row_factory = db.row_factory
        got_a = claim(a, "a", 20)  # a's transaction still holds its rows
        got_b = claim(b, "b", 20)  # SKIP LOCKED: b takes the rest
        a.commit()
        b.commit()
    ids_a, ids_b = {r["id"] for r in got_a}, {r["id"] for r in got_b}
    assert len(ids_a) == 20 and len(ids_b) == 10 and not ids_a & ids_b


def test_finish_records_each_outcome_only_for_the_runner_holding_the_lease(db):
    queued(db, 4)
    rows = claim(db, "r1")
    ids = [r["id"] for r in rows]
    finish = "select drip.finish_outbox(%s, %s, %s, %s) n"
    assert db.execute(finish, ("someone-else", ids, "sent", None)).fetchone()["n"] == 0
    assert db.execute(finish, ("r1", ids[:1], "sent", None)).fetchone()["n"] == 1
    assert db.execute(finish, ("r1", ids[1:2], "failed", ["550 no such user"])).fetchone()["n"] == 1
    assert db.execute(finish, ("r1", ids[2:3], "retry", ["451 later"])).fetchone()["n"] == 1
    assert db.execute(finish, ("r1", ids[3:4], "release", None)).fetchone()["n"] == 1
    got = {o["id"]: o for o in outbox(db)}
    assert (got[ids[0]]["status"], got[ids[0]]["sent_at"] is not None) == ("sent", True)
    assert (got[ids[1]]["status"], got[ids[1]]["last_error"]) == ("failed", "550 no such user")
    wait = db.execute("select extract(epoch from next_attempt_at - now()) w from drip.outbox where id = %s",
                      (ids[2],)).fetchone()["w"]
    assert got[ids[2]]["status"] == "queued" and 25 < wait <= 30
    assert (got[ids[3]]["status"], got[ids[3]]["attempts"]) == ("queued", 0)  # handed back untried
    assert [r["id"] for r in claim(db, "r2")] == [ids[3]]  # released rows are sendable at once


def test_a_heartbeat_shows_in_status(db):
    assert db.execute("select runners_recent from drip.status").fetchone()["runners_recent"] == 0
    db.execute("select drip.runner_heartbeat('host:1', 'host', 1)")
    db.execute("select drip.runner_heartbeat('host:1', 'host', 1)")
    assert db.execute("select runners_recent from drip.status").fetchone()["runners_recent"] == 1


def test_a_lease_that_keeps_running_out_ends_failed_instead_of_being_tried_forever(db):
    """Each expiry means the runner holding the row died or hung while sending it."""
    queued(db, 1)
    for attempt in range(1, 9):
        [row] = claim(db, f"r{attempt}")
        assert row["attempts"] == attempt
        db.execute("update drip.outbox set next_attempt_at = now() - interval '1 second'")  # the runner died
    assert claim(db, "r9") == []
    [row] = outbox(db)
    assert row["status"] == "failed" and row["locked_by"] is None
    assert row["last_error"].startswith("no result after 8 attempts")


@not_on_citus(reason="Citus cannot disable a trigger of a distributed table")
def test_a_row_of_a_stopped_contact_is_closed_without_starving_the_claim(db):
    """The claim judges the rows it picks; a run of rows it must not send is closed and it picks
    again, so the queue behind them does not look empty."""
    queued(db, 30)
    with db.transaction():  # rows that slipped past the unsubscribe trigger
        db.execute("alter table drip.contacts disable trigger contacts__stop")
        db.execute("update drip.contacts set unsubscribed_at = now() where email ~ '^u([1-9]|1[0-9]|20)@'")
        db.execute("alter table drip.contacts enable trigger contacts__stop")
    got = claim(db, "r1", limit=10)
    assert len(got) == 10 and {r["to_address"] for r in got} == {f"u{i}@example.com" for i in range(21, 31)}
    assert db.execute("select count(*) n from drip.outbox where status = 'cancelled' "
                      "and last_error = 'contact unsubscribed'").fetchone()["n"] == 20


def test_a_row_cancelled_in_flight_is_recorded_sent_once_handed_over(db):
    queued(db, 2)
    rows = claim(db, "r1")
    db.execute("update drip.contacts set unsubscribed_at = now()")  # while the runner holds the rows
    assert {o["status"] for o in outbox(db)} == {"cancelled"}
    assert sorted(r["id"] for r in db.execute("select id from drip.unsendable('r1', %s) id",
                                              ([r["id"] for r in rows],))) == sorted(r["id"] for r in rows)
    # one of them had already gone to the mail server: the outbox must say so
    assert db.execute("select drip.finish_outbox('r1', %s, 'sent') n", ([rows[0]["id"]],)).fetchone()["n"] == 1
    assert db.execute("select drip.finish_outbox('r1', %s, 'retry', %s) n",
                      ([rows[1]["id"]], ["451 later"])).fetchone()["n"] == 0
    got = {o["id"]: o["status"] for o in outbox(db)}
    assert got == {rows[0]["id"]: "sent", rows[1]["id"]: "cancelled"}


@pytest.mark.parametrize("reply,gone", [
    ("550 5.1.1 <a@example.com>: Recipient address rejected: User unknown", True),
    ("550-5.1.1 The email account that you tried to reach does not exist.", True),
    ("553 5.1.3 bad destination mailbox address syntax", True),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", True),
    ("550 5.2.1 The email account that you tried to reach is disabled.", True),
    ("550 User unknown", True),
    ("550 No such user here", True),
    ("550 Mailbox does not exist", True),
    ("550 Invalid recipient", True),
    ("550-Unknown user", True),
    # behaviour 14 names 5.1.x, 5.2.1, or a 550 that says the mailbox does not exist: nothing else
    ("550 Requested action not taken: mailbox unavailable", False),  # RFC 5321's generic text, also policy
    ("550 mailbox unavailable", False),
    ("550 Mailbox unavailable or access denied", False),
    ("550 User unknown: message refused by policy", False),
    ("551 no such user here", False),  # 551 is "user not local"
    ("553 mailbox name not allowed", False),
    ("550 Recipient address rejected: Access denied", False),
    ("550 5.7.1 Message rejected as spam", False),
    ("554 5.7.1 Service unavailable; Client host blocked", False),
    ("550 5.1.8 sender address rejected: domain not found", False),
    ("552 5.2.2 mailbox full", False),
    ("554 transaction failed", False),
    ("451 4.1.1 user unknown, try later", False),
    ("cannot build the message: IDNAError", False),
    (None, False),
])
def test_which_permanent_replies_mean_the_mailbox_is_gone(db, reply, gone):
    assert db.execute("select drip.is_mailbox_gone(%s) g", (reply,)).fetchone()["g"] is gone


def test_retry_outbox_is_the_one_judge_of_what_can_be_retried(db):
    queued(db, 3)
    rows = claim(db, "r1")
    ids = [r["id"] for r in rows]
    db.execute("select drip.finish_outbox('r1', %s, 'failed', %s)", (ids, ["554 no"] * 3))
    db.execute("update drip.contacts set unsubscribed_at = now() where email = 'u1@example.com'")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=r"not failed outbox rows: 999") as err:
        db.execute("select drip.retry_outbox(%s)", ([ids[1], 999],))
    assert error_field(err.value.diag) == "p_ids"
    assert {o["status"] for o in outbox(db)} == {"failed"}  # refused as a whole
    by_email = {o["to_address"]: o["id"] for o in outbox(db)}
    n = db.execute("select drip.retry_outbox(%s) n", ([by_email["u1@example.com"], by_email["u2@example.com"]],)
                   ).fetchone()["n"]
    assert n == 1  # u1 unsubscribed: it stays failed
    assert {o["to_address"]: o["status"] for o in outbox(db)} == {
        "u1@example.com": "failed", "u2@example.com": "queued", "u3@example.com": "failed"}


def test_temporary_failures_wait_30_s_doubling_and_the_8th_fails_the_row(db):
    """The waits README states: 30 s, 60 s, 120 s ... (32 min before the 8th and last attempt)."""
    queued(db, 1)
    waits = []
    for attempt in range(1, 9):
        [row] = claim(db, "r")
        assert row["attempts"] == attempt
        db.execute("select drip.finish_outbox('r', %s, 'retry', array['451 try later'])", ([row["id"]],))
        after = db.execute("select status, extract(epoch from next_attempt_at - now())::int wait "
                           "from drip.outbox").fetchone()
        if attempt < 8:
            assert after["status"] == "queued"
            waits.append(after["wait"])
            db.execute("update drip.outbox set next_attempt_at = now()")
    assert waits == [30, 60, 120, 240, 480, 960, 1920]
    assert after["status"] == "failed"
