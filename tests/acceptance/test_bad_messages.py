"""Behaviour 15: one bad message never stops the others. Internationalised addresses, a
malformed setting refused at start, and an SMTP session that is reset after a failure."""

import pytest

from pgdrip.message import Envelope
from pgdrip.senders import PermanentFailure, SmtpSender, TemporaryFailure, parse_smtp_url
from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, outbox, tag
from tests.smtp_server import SmtpServer


def enroll(db, emails: list[str]) -> None:
    add_sequence(db, "tag_added", None, steps=[(0, "Hi {{FirstName|there}}", "<p>Hello</p>")])
    t = add_tag(db, "x")
    for email in emails:
        tag(db, add_contact(db, email), t)


def statuses(db) -> dict[str, tuple[str, str | None]]:
    return {o["to_address"]: (o["status"], o["last_error"]) for o in outbox(db)}


def test_a_non_ascii_mailbox_without_smtputf8_fails_alone_and_the_rest_go(dsn, db, smtp, tmp_home):
    others = [f"u{i}@example.com" for i in range(6)]
    enroll(db, others[:3] + ["jöhn@exämple.com"] + others[3:])
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    got = statuses(db)
    status, error = got.pop("jöhn@exämple.com")
    assert status == "failed" and "SMTPUTF8" in error
    assert {s for s, _ in got.values()} == {"sent"}
    assert sorted(rcpt[0] for _, rcpt in smtp.handler.envelopes) == sorted(others)
    bad_id = next(o["id"] for o in outbox(db) if o["status"] == "failed")
    [line] = [ln for ln in r.stderr.splitlines() if "SMTPUTF8" in ln]
    assert f"outbox {bad_id} failed" in line  # one line: the row and the reason


def test_a_server_offering_smtputf8_receives_the_internationalised_address(dsn, db, tmp_home):
    server = SmtpServer(enable_SMTPUTF8=True).start()
    try:
        enroll(db, ["jöhn@exämple.com", "john@bücher.de"])
        assert pgdrip("run", "--once", "--smtp", server.url, dsn=dsn, home=tmp_home).returncode == 0
        assert {s for s, _ in statuses(db).values()} == {"sent"}
        assert sorted(rcpt[0] for _, rcpt in server.handler.envelopes) == ["john@xn--bcher-kva.de",
                                                                           "jöhn@xn--exmple-cua.com"]
    finally:
        server.stop()


def test_an_idn_domain_alone_needs_no_smtputf8(dsn, db, smtp, tmp_home):
    enroll(db, ["john@exämple.com"])
    assert pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home).returncode == 0
    assert statuses(db) == {"john@exämple.com": ("sent", None)}
    assert smtp.handler.envelopes[0][1] == ["john@xn--exmple-cua.com"]
    assert smtp.handler.messages[0]["To"] == "john@xn--exmple-cua.com"


def test_a_message_that_cannot_be_built_fails_alone(dsn, db, smtp, tmp_home):
    enroll(db, ["a@example.com", "b@example.com"])
    # an address the door let in that no mail system can carry: its domain is not valid IDNA
    db.execute("insert into drip.contacts (email) values ('c@ü-.com')")
    db.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t "
               "where c.email = 'c@ü-.com'")
    r = pgdrip("run", "--once", "--smtp", smtp.url, "--workers", "1", dsn=dsn, home=tmp_home)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    got = statuses(db)
    assert got["c@ü-.com"][0] == "failed" and "cannot build the message" in got["c@ü-.com"][1]
    assert got["a@example.com"][0] == got["b@example.com"][0] == "sent"
    assert db.execute("select count(*) n from drip.outbox where status = 'sending'").fetchone()["n"] == 0


@pytest.mark.parametrize("url", ["https://example.com/u/{contact_id}/{token}/{x}",
                                 "https://example.com/u?c={contact_id}",
                                 "https://example.com/u/{contact_id}/{token}}"])
def test_a_malformed_unsubscribe_template_is_refused_at_start(dsn, db, smtp, tmp_home, url):
    enroll(db, ["a@example.com"])
    env = {"PGDRIP_UNSUBSCRIBE_URL": url, "PGDRIP_UNSUBSCRIBE_SECRET": "s3cret-s3cret-s3cret"}
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home, env=env)
    assert_one_line_error(r, "unsubscribe_url", "PGDRIP_UNSUBSCRIBE_URL")
    assert outbox(db) == [] and smtp.handler.messages == []  # nothing dispatched, nothing sent


def test_an_unsubscribe_url_without_its_secret_is_refused_at_start(dsn, db, tmp_home):
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home,
               env={"PGDRIP_UNSUBSCRIBE_URL": "https://example.com/u/{contact_id}/{token}"})
    assert_one_line_error(r, "unsubscribe_secret", "PGDRIP_UNSUBSCRIBE_SECRET")


def envelope(recipient: str, smtputf8: bool = False) -> Envelope:
    data = f"From: a@example.com\r\nTo: {recipient}\r\nSubject: s\r\n\r\nbody\r\n".encode()
    return Envelope("a@example.com", recipient, data, "<x@example.com>", smtputf8)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one command at a time"])
def test_the_session_is_reopened_after_a_failure_in_mid_dialogue(pipelining):
    """MAIL was accepted, then the recipient could not even be written (a row that slipped past
    every check): the next message must not meet '503 nested MAIL command'."""
    smtp = SmtpServer(pipelining=pipelining).start()
    sender = SmtpSender(parse_smtp_url(smtp.url))
    try:
        with pytest.raises(UnicodeEncodeError):
            sender.send(envelope("jöhn@example.com"))  # claims not to need SMTPUTF8
        sender.send(envelope("next@example.com"))
        with pytest.raises(PermanentFailure, match="550"):
            sender.send(envelope("reject@example.com"))  # a refused RCPT: the session is reset
        sender.send(envelope("after-reject@example.com"))
        with pytest.raises(TemporaryFailure):
            sender.send(envelope("drop@example.com"))  # the connection dies mid-DATA
        sender.send(envelope("after-drop@example.com"))
        with pytest.raises(PermanentFailure, match="5.7.1"):
            sender.send(envelope("policy@example.com"))  # refused at the end of DATA
        sender.send(envelope("after-policy@example.com"))
    finally:
        sender.close()
        smtp.stop()
    assert [rcpt[0] for _, rcpt in smtp.handler.envelopes] == ["next@example.com", "after-reject@example.com",
                                                               "after-drop@example.com", "after-policy@example.com"]


def test_a_message_whose_lines_start_with_a_dot_arrives_intact(smtp):
    body = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\n.hidden\r\n..two\r\nend\r\n"
    sender = SmtpSender(parse_smtp_url(smtp.url))
    try:
        sender.send(Envelope("a@example.com", "b@example.com", body, "<x@example.com>"))
    finally:
        sender.close()
    assert smtp.handler.raw[0].replace(b"\r\n", b"\n").endswith(b"\n.hidden\n..two\nend\n")
