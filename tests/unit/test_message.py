"""Pure-Python parts: message building, header safety, SMTP URLs, settings."""

import os
from email import message_from_bytes
from pathlib import Path

import pytest

from pgdrip.errors import PgdripError
from pgdrip.message import MessageError, build_envelope, mail_address, one_line
from pgdrip.senders import make_sender_factory, parse_smtp_url
from pgdrip.settings import RunSettings

ROW = {"id": 1, "contact_id": 7, "to_address": "ada@example.com", "subject": "Hi Ada",
       "html_body": "<p>Hello</p>", "text_body": "Hello\n", "list_unsubscribe": None, "message_id": "<abc@pgdrip>"}


def settings(**kw) -> RunSettings:
    s = RunSettings(home=Path("/nonexistent"), **kw)
    s.validate()
    return s


def test_headers_cannot_be_injected_through_any_value():
    row = {**ROW, "subject": "Hi\r\nBcc: victim@example.com", "to_address": "a@example.com\nBcc: v@example.com"}
    env = build_envelope(row, settings(from_address="News\r\nBcc: x@example.com <n@example.com>"))
    headers = env.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\nBcc:" not in headers
    msg = message_from_bytes(env.data)
    assert msg["Subject"] == "Hi Bcc: victim@example.com"
    assert "\n" not in env.recipient


def test_message_id_is_the_rows_and_lines_end_in_crlf():
    env = build_envelope(ROW, settings())
    msg = message_from_bytes(env.data)
    assert msg["Message-ID"] == "<abc@pgdrip>" == env.message_id
    assert b"\n" not in env.data.replace(b"\r\n", b"")


def test_the_rows_parts_and_list_unsubscribe_are_sent_as_rendered():
    row = {**ROW, "html_body": "<p>Hello</p><p>FOOT</p>", "text_body": "Hello\n\nFOOT\n",
           "list_unsubscribe": "<https://e.com/u/7/tok>"}
    msg = message_from_bytes(build_envelope(row, settings()).data)
    parts = {p.get_content_type(): p.get_payload(decode=True).decode().replace("\r\n", "\n")
             for p in msg.walk() if not p.is_multipart()}
    assert parts == {"text/plain": "Hello\n\nFOOT\n", "text/html": "<p>Hello</p><p>FOOT</p>"}
    assert msg["List-Unsubscribe"] == "<https://e.com/u/7/tok>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_unsubscribe_headers_without_a_url():
    msg = message_from_bytes(build_envelope(ROW, settings()).data)
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_a_row_queued_before_text_parts_existed_is_sent_as_html_only():
    msg = message_from_bytes(build_envelope({**ROW, "text_body": None}, settings()).data)
    assert msg.get_content_type() == "text/html" and msg.get_payload(decode=True) == b"<p>Hello</p>"


@pytest.mark.parametrize("address,expected,utf8", [
    ("ada@example.com", "ada@example.com", False),
    ("jöhn@exämple.com", "jöhn@xn--exmple-cua.com", True),
    ("john@bücher.de", "john@xn--bcher-kva.de", False),
    ("JOHN@BÜCHER.DE", "JOHN@xn--bcher-kva.de", False),  # UTS 46 maps the domain's case
])
def test_addresses_travel_with_idna_domains(address, expected, utf8):
    assert mail_address(address) == (expected, utf8)


@pytest.mark.parametrize("address", ["no-at-sign", "a@", "@exämple.com", "a@ü-.com", "a@☃.com"])
def test_addresses_no_mail_system_can_carry_are_refused(address):
    with pytest.raises(MessageError):
        mail_address(address)


def test_a_non_ascii_local_part_needs_smtputf8_and_keeps_the_headers_utf8():
    from email import policy
    from email.parser import BytesParser

    env = build_envelope({**ROW, "to_address": "jöhn@exämple.com"}, settings())
    assert env.smtputf8 and env.recipient == "jöhn@xn--exmple-cua.com"
    msg = BytesParser(policy=policy.SMTPUTF8).parsebytes(env.data)
    assert msg["To"] == "jöhn@xn--exmple-cua.com"
    assert not build_envelope({**ROW, "to_address": "john@exämple.com"}, settings()).smtputf8


def test_one_line():
    assert one_line("a\r\n\tb\u2028c") == "a b c"


@pytest.mark.parametrize("url,host,port,tls,starttls,user", [
    ("smtp://mail.example.com", "mail.example.com", 25, False, False, None),
    ("smtps://u:p%40ss@mail.example.com", "mail.example.com", 465, True, False, "u"),
    ("smtp://mail.example.com:587?starttls=true", "mail.example.com", 587, False, True, None),
])
def test_parse_smtp_url(url, host, port, tls, starttls, user):
    c = parse_smtp_url(url)
    assert (c.host, c.port, c.implicit_tls, c.starttls, c.username) == (host, port, tls, starttls, user)


def test_smtp_password_never_shows():
    c = parse_smtp_url("smtp://user:hunter2secret@mail.example.com:587")
    assert c.password == "hunter2secret"
    assert "hunter2secret" not in repr(c) and "hunter2secret" not in c.display
    _, target = make_sender_factory("smtp://user:hunter2secret@mail.example.com", Path("/tmp"))
    assert "hunter2secret" not in target


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://h:notaport",
                                 "smtp://h?bogus=1", "smtp://h?timeout=soon"])
def test_bad_smtp_urls(url):
    with pytest.raises(PgdripError):
        parse_smtp_url(url)


def test_settings_flags_over_env_over_defaults(monkeypatch):
    monkeypatch.setenv("PGDRIP_WORKERS", "7")
    monkeypatch.setenv("PGDRIP_POLL_SECONDS", "60")
    monkeypatch.delenv("PGDRIP_SMTP_URL", raising=False)
    s = RunSettings.from_env(poll_seconds=5)
    assert (s.workers, s.poll_seconds, s.batch_size) == (7, 5, 50)


@pytest.mark.parametrize("env", [{"PGDRIP_WORKERS": "many"}, {"PGDRIP_WORKERS": "0"},
                                 {"PGDRIP_MAX_RATE": "fast"}, {"PGDRIP_MAX_RATE": "0"}, {"PGDRIP_MAX_RATE": "-5"},
                                 {"PGDRIP_SWEEP_CATCHUP_DAYS": "-1"}, {"PGDRIP_SWEEP_CATCHUP_DAYS": "a week"}])
def test_bad_settings(monkeypatch, env):
    for k in list(os.environ):
        if k.startswith("PGDRIP_"):
            monkeypatch.delenv(k)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(PgdripError):
        RunSettings.from_env()


def test_non_ascii_subject_and_names_survive_the_trip():
    from email import policy
    from email.parser import BytesParser

    row = {**ROW, "subject": "Grüße, Zoë 🎉", "html_body": "<p>Schön – ça va?</p>", "text_body": "Schön – ça va?\n"}
    env = build_envelope(row, settings(from_address="Équipe Drip <team@example.com>"))
    assert env.data.isascii()  # 7-bit clean: encoded words and quoted-printable
    msg = BytesParser(policy=policy.default).parsebytes(env.data)
    assert msg["Subject"] == "Grüße, Zoë 🎉"
    assert msg["From"].addresses[0].display_name == "Équipe Drip"
    assert "Schön – ça va?" in msg.get_body(("plain",)).get_content()
    assert "<p>Schön – ça va?</p>" in msg.get_body(("html",)).get_content()
