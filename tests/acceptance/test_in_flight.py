"""Records that tell the truth about mail in flight: an unsubscribe while a runner holds the
contact's rows, and `pgdrip outbox retry`."""

import time

import psycopg

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, outbox, tag

HOLD = 0.3  # longer than the runner's pre-send check interval (drain.PRESEND_CHECK_SECONDS)

def test_unsubscribing_while_a_runner_holds_the_rows(dsn, db, smtp, tmp_home):
    """The runner leases a batch with two messages for Ada and two for Bob. While the server is
    receiving Ada's first message, Ada unsubscribes (committed before the server answers). That
    message was handed over: its row ends 'sent'. Her second one is never handed over: its row
    ends 'cancelled'. Bob's go as usual."""
    from pgdrip.drain import PRESEND_CHECK_SECONDS

    assert HOLD > PRESEND_CHECK_SECONDS
    add_sequence(db, "tag_added", None, steps=[(0, "first", "<p>1</p>")], name="one")
    add_sequence(db, "tag_added", None, steps=[(0, "second", "<p>2</p>")], name="two")
    t = add_tag(db, "x")
    ada, bob = add_contact(db, "ada@example.com"), add_contact(db, "bob@example.com")
    tag(db, ada, t)
    tag(db, bob, t)
    db.execute("call drip.dispatch_due()")
    unsubscribed: list[str] = []

    def unsubscribe_ada_during_her_first_message(envelope) -> None:
        if envelope.rcpt_tos == ["ada@example.com"] and not unsubscribed:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (ada,))
                # the trigger cancelled her rows, the one in flight included
                unsubscribed.append(conn.execute("select string_agg(status, ',' order by id) from drip.outbox "
                                                 "where contact_id = %s", (ada,)).fetchone()[0])

            time.sleep(HOLD)

    smtp.handler.on_data = unsubscribe_ada_during_her_first_message
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert unsubscribed == ["cancelled,cancelled"]
    received = [rcpt[0] for _, rcpt in smtp.handler.envelopes]
    assert sorted(received) == ["ada@example.com", "bob@example.com", "bob@example.com"]  # Ada's second never left
    ada_rows = {o["subject"]: o["status"] for o in outbox(db) if o["contact_id"] == ada}
    first = smtp.handler.messages[received.index("ada@example.com")]["Subject"]
    second = ({"first", "second"} - {first}).pop()
    assert ada_rows == {first: "sent", second: "cancelled"}
    assert [o["status"] for o in outbox(db) if o["contact_id"] == bob] == ["sent", "sent"]

def test_outbox_retry_says_what_the_database_did(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    t = add_tag(db, "x")
    for email in ("policy-a@example.com", "policy-b@example.com", "ok@example.com"):
        tag(db, add_contact(db, email), t)
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    failed = {o["to_address"]: o["id"] for o in outbox(db) if o["status"] == "failed"}
    sent = next(o["id"] for o in outbox(db) if o["status"] == "sent")
    assert_one_line_error(pgdrip("outbox", "retry", str(failed["policy-a@example.com"]), str(sent), dsn=dsn),
                          f"not failed outbox rows: {sent}")
    assert {o["status"] for o in outbox(db) if o["id"] in failed.values()} == {"failed"}  # all or nothing
    db.execute("update drip.contacts set unsubscribed_at = now() where email = 'policy-b@example.com'")
    r = pgdrip("outbox", "retry", *map(str, failed.values()), dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "queued 1 message(s) again; 1 left failed: the contact unsubscribed or bounced"
    assert {o["to_address"]: o["status"] for o in outbox(db)} == {
        "policy-a@example.com": "queued", "policy-b@example.com": "failed", "ok@example.com": "sent"}
    r = pgdrip("outbox", "retry", "--all-failed", dsn=dsn)
    assert r.stdout.strip() == "queued 0 message(s) again"
