"""`pgdrip run --once` against a real SMTP server: delivery, Message-IDs, failures, retries."""

import json
import re
from email.message import Message

from tests.acceptance.cli import pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, not_on_citus, outbox

UNSUB = {"PGDRIP_UNSUBSCRIBE_URL": "https://example.com/u?c={contact_id}&t={token}",
         "PGDRIP_UNSUBSCRIBE_SECRET": "s3cret-s3cret-s3cret", "PGDRIP_FROM": "News <news@example.com>"}


def tag_all(db, emails: list[str], steps=None) -> None:
    add_sequence(db, "tag_added", None, steps=steps or [(0, "Hi {{FirstName|there}}", "<p>Hello <b>{{FirstName}}</b>"
                                                               " <a href='https://example.com/x'>link</a></p>")])
    t = add_tag(db, "x")
    for email in emails:
        c = add_contact(db, email, "Ada")
        db.execute("insert into drip.contact_tags values (%s, %s)", (c, t))


def part(msg: Message, subtype: str) -> str:
    for p in msg.walk():
        if p.get_content_type() == f"text/{subtype}":
            return p.get_payload(decode=True).decode()
    raise AssertionError(f"no text/{subtype} part")


def test_run_once_delivers_with_the_stored_message_id(dsn, db, smtp, tmp_home):
    tag_all(db, [f"u{i}@example.com" for i in range(30)])
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home, env=UNSUB)
    assert r.returncode == 0, r.stderr
    assert "sent 30" in r.stdout
    rows = outbox(db)
    assert {o["status"] for o in rows} == {"sent"} and all(o["sent_at"] for o in rows)
    assert sorted(smtp.handler.message_ids()) == sorted(o["message_id"] for o in rows)
    msg = smtp.handler.messages[0]
    assert msg["Subject"] == "Hi Ada" and msg["From"] == "News <news@example.com>"
    assert msg.get_content_type() == "multipart/alternative"
    assert "Hello Ada link (https://example.com/x)" in part(msg, "plain")
    assert "<b>Ada</b>" in part(msg, "html")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "".join(msg["List-Unsubscribe"].split()).startswith("<https://example.com/u?c=")
    assert msg["Date"]


def test_unsubscribe_tokens_differ_per_contact_and_need_the_secret(dsn, db, smtp, tmp_home):
    from pgdrip.settings import verify_unsubscribe_token

    tag_all(db, ["a@example.com", "b@example.com"])
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home, env=UNSUB).returncode == 0
    links = sorted("".join(m["List-Unsubscribe"].split()) for m in smtp.handler.messages)
    tokens = [link.split("t=")[1].rstrip(">") for link in links]
    assert tokens[0] != tokens[1] and len(tokens[0]) == 32
    ids = [int(link.split("c=")[1].split("&")[0]) for link in links]
    secret = UNSUB["PGDRIP_UNSUBSCRIBE_SECRET"]
    assert all(verify_unsubscribe_token(db, secret, i, t) for i, t in zip(ids, tokens, strict=True))
    assert not verify_unsubscribe_token(db, "another-secret-entirely", ids[0], tokens[0])
    assert not verify_unsubscribe_token(db, secret, ids[1], tokens[0])


def test_permanent_failure_ends_failed_with_the_servers_reply(dsn, db, smtp, tmp_home):
    tag_all(db, ["reject@example.com", "ok@example.com"])
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    by_to = {o["to_address"]: o for o in outbox(db)}
    assert by_to["reject@example.com"]["status"] == "failed"
    assert "550" in by_to["reject@example.com"]["last_error"]
    assert "mailbox unavailable" in by_to["reject@example.com"]["last_error"]
    assert by_to["ok@example.com"]["status"] == "sent"


def test_temporary_failures_are_retried_with_backoff(dsn, db, smtp, tmp_home):
    tag_all(db, ["tempfail@example.com", "busy@example.com", "ok@example.com"])
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    rows = db.execute("select to_address, status, attempts, last_error, "
                      "extract(epoch from next_attempt_at - now()) as wait from drip.outbox").fetchall()
    by_to = {o["to_address"]: o for o in rows}
    for addr, code in (("tempfail@example.com", "451"), ("busy@example.com", "421")):
        row = by_to[addr]
        assert (row["status"], row["attempts"]) == ("queued", 1)
        assert code in row["last_error"]
        assert 20 < row["wait"] <= 31  # first retry within a minute
    assert by_to["ok@example.com"]["status"] == "sent"
    # the next failure waits longer
    db.execute("update drip.outbox set next_attempt_at = now() where status = 'queued'")
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert "sent 0, to retry 2, failed 0" in r.stdout, r.stdout
    waits = db.execute("select extract(epoch from next_attempt_at - now()) w from drip.outbox "
                       "where status = 'queued'").fetchall()
    assert all(50 < w["w"] <= 61 for w in waits)


def test_failed_after_the_maximum_attempts(dsn, db, smtp, tmp_home):
    tag_all(db, ["tempfail@example.com"])
    db.execute("call drip.dispatch_due()")
    db.execute("update drip.outbox set attempts = 7")
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert "sent 0, to retry 0, failed 1" in r.stdout, r.stdout
    [row] = outbox(db)
    assert (row["status"], row["attempts"]) == ("failed", 8) and "451" in row["last_error"]


def test_smtp_down_then_up_delivers_everything(dsn, db, smtp, tmp_home):
    tag_all(db, [f"u{i}@example.com" for i in range(10)])
    smtp.stop()
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert {o["status"] for o in outbox(db)} == {"queued"}
    assert all("cannot reach SMTP server" in o["last_error"] for o in outbox(db))
    smtp.start()
    db.execute("update drip.outbox set next_attempt_at = now()")  # time passes
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert {o["status"] for o in outbox(db)} == {"sent"}
    assert sorted(smtp.handler.message_ids()) == sorted(o["message_id"] for o in outbox(db))


def test_stalled_and_dropped_connections_are_retried_and_others_still_go(dsn, db, smtp, tmp_home):
    smtp.handler.stall_seconds = 6
    tag_all(db, ["stall@example.com", "drop@example.com", "ok1@example.com", "ok2@example.com"])
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", dsn=dsn, home=tmp_home, timeout=90)
    assert r.returncode == 0, r.stderr
    by_to = {o["to_address"]: o for o in outbox(db)}
    assert by_to["stall@example.com"]["status"] == "queued"
    assert by_to["drop@example.com"]["status"] == "queued"
    assert by_to["ok1@example.com"]["status"] == by_to["ok2@example.com"]["status"] == "sent"
    smtp.handler.faults = False
    db.execute("update drip.outbox set next_attempt_at = now()")
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert {o["status"] for o in outbox(db)} == {"sent"}


@not_on_citus(reason='Citus cannot disable a trigger of a distributed table')
def test_unsubscribed_contact_is_never_mailed_even_if_a_row_is_queued(dsn, db, smtp, tmp_home):
    tag_all(db, ["a@example.com", "b@example.com"])
    db.execute("call drip.dispatch_due()")
    # a queued row that escaped cancellation (written by hand, say): the claim still refuses it
    with db.transaction():
        db.execute("alter table drip.contacts disable trigger contacts__stop")
        db.execute("update drip.contacts set unsubscribed_at = now() where email = 'a@example.com'")
        db.execute("alter table drip.contacts enable trigger contacts__stop")
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert [m["To"] for m in smtp.handler.messages] == ["b@example.com"]
    assert {o["to_address"]: o["status"] for o in outbox(db)} == {"a@example.com": "cancelled",
                                                                   "b@example.com": "sent"}


def test_file_sender_writes_eml_files_under_home(dsn, db, tmp_home):
    tag_all(db, ["a@example.com", "b@example.com"])
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    files = sorted((tmp_home / "mail").glob("*.eml"))
    assert len(files) == 2
    assert all(b"\r\nMessage-ID: <" in f.read_bytes() for f in files)
    assert {o["status"] for o in outbox(db)} == {"sent"}


def test_long_one_line_body_is_sent_within_smtp_line_limits(dsn, db, smtp, tmp_home):
    tag_all(db, ["a@example.com"], steps=[(0, "long", "<p>" + "word " * 4000 + "</p>")])
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert all(len(line) <= 998 for line in smtp.handler.raw[0].split(b"\r\n"))
    assert outbox(db)[0]["status"] == "sent"


def test_drain_only_sends_what_is_queued_and_leaves_dispatch_to_pg_cron(dsn, db, smtp, tmp_home):
    tag_all(db, ["a@example.com"])
    r = pgdrip("run", "--once", "--drain-only", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0 and "sent 0" in r.stdout, r.stderr
    assert outbox(db) == []  # nothing was dispatched by the runner
    db.execute("call drip.dispatch_due()")  # what the pg_cron job does
    r = pgdrip("run", "--once", "--drain-only", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0 and "sent 1" in r.stdout, r.stderr
    assert smtp.handler.message_ids() == [outbox(db)[0]["message_id"]]


def test_preview_shows_exactly_the_parts_that_are_sent(dsn, db, smtp, tmp_home, tmp_path):
    """Branding, the unsubscribe link and the text part are rendered by the database, in one
    place, for the dispatcher and for `pgdrip preview` alike; only the preview's unsubscribe
    link names no contact and no token (a forwarded preview must unsubscribe nobody)."""
    (tmp_path / "head.html").write_text("<div style='color:#333'>ACME <b>News</b></div>")
    (tmp_path / "foot.html").write_text("<p>ACME Ltd, 1 Road &amp; Street</p>")
    env = {**UNSUB, "PGDRIP_BRAND_HEADER": str(tmp_path / "head.html"),
           "PGDRIP_BRAND_FOOTER": str(tmp_path / "foot.html")}
    tag_all(db, ["a@example.com"], steps=[(0, "Hi {{FirstName}}", "<p>Hello <b>{{FirstName}}</b> "
                                          "<a href='https://example.com/x?a=1&amp;b=2'>link</a></p>")])
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home, env=env).returncode == 0
    [msg] = smtp.handler.messages
    step = db.execute("select id from drip.sequence_steps").fetchone()["id"]
    r = pgdrip("preview", str(step), "--contact", "a@example.com", "--json", dsn=dsn)
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    contact = db.execute("select id from drip.contacts").fetchone()["id"]
    token = re.search(rf"https://example\.com/u\?c={contact}&t=([0-9a-f]{{32}})", msg["List-Unsubscribe"]).group(1)

    def as_previewed(sent: str) -> str:
        return sent.replace("\r\n", "\n").replace(f"c={contact}&amp;t={token}", "c=0&amp;t=preview") \
                   .replace(f"c={contact}&t={token}", "c=0&t=preview")

    assert shown["subject"] == msg["Subject"] == "Hi Ada"
    assert shown["html_body"] == as_previewed(part(msg, "html"))
    assert shown["text_body"] == as_previewed(part(msg, "plain"))
    assert as_previewed("".join(msg["List-Unsubscribe"].split())) == shown["list_unsubscribe"]
    assert token not in r.stdout
    assert shown["text_body"].startswith("ACME News\n\nHello Ada link (https://example.com/x?a=1&b=2)\n")
    assert "Unsubscribe: https://example.com/u?c=0&t=preview" in shown["text_body"]
    html = shown["html_body"]
    assert html.index("ACME") < html.index("Hello") < html.index("Road &amp; Street") < html.index("Unsubscribe")
