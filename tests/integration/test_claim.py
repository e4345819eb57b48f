"""Behaviour 9 in SQL: leases, SKIP LOCKED claims, results, and the lease running out."""

import psycopg

from tests.helpers import add_contacts, add_sequence, add_tag, outbox, tag_everyone


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
