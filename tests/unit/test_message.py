"""Pure-Python parts: message building, header safety, SMTP URLs, settings."""

import os
from email import message_from_bytes
from pathlib import Path

import pytest

from pgdrip.errors import PgdripError
from pgdrip.message import build_envelope, html_to_text, one_line
from pgdrip.senders import make_sender_factory, parse_smtp_url
from pgdrip.settings import RunSettings

ROW = {"id": 1, "contact_id": 7, "to_address": "ada@example.com", "subject": "Hi Ada",
       "html_body": "<p>Hello</p>", "message_id": "<abc@pgdrip>"}


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


def test_branding_wraps_the_body_and_unsubscribe_adds_rfc8058_headers():
    s = settings(brand_header="<div>HEAD</div>", brand_footer="<div>FOOT</div>",
                 unsubscribe_url="https://e.com/u/{contact_id}/{token}", unsubscribe_secret="x" * 20)
    msg = message_from_bytes(build_envelope(ROW, s).data)
    html = [p for p in msg.walk() if p.get_content_type() == "text/html"][0].get_payload(decode=True).decode()
    assert html.index("HEAD") < html.index("Hello") < html.index("FOOT") < html.index("Unsubscribe")
    assert "".join(msg["List-Unsubscribe"].split()).startswith("<https://e.com/u/7/")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_no_unsubscribe_headers_without_a_url():
    msg = message_from_bytes(build_envelope(ROW, settings()).data)
    assert msg["List-Unsubscribe"] is None


def test_html_to_text():
    text = html_to_text("<h1>Title</h1><p>Hi &amp; <a href='https://x.io'>go</a></p><style>p{}</style>")
    assert text == "Title\n\nHi & go (https://x.io)\n"


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
                                 {"PGDRIP_UNSUBSCRIBE_URL": "https://e.com/{token}"},
                                 {"PGDRIP_UNSUBSCRIBE_URL": "https://e.com/{contact_id}/{token}",
                                  "PGDRIP_UNSUBSCRIBE_SECRET": "short"}])
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

    row = {**ROW, "subject": "Grüße, Zoë 🎉", "html_body": "<p>Schön – ça va?</p>"}
    env = build_envelope(row, settings(from_address="Équipe Drip <team@example.com>"))
    assert env.data.isascii()  # 7-bit clean: encoded words and quoted-printable
    msg = BytesParser(policy=policy.default).parsebytes(env.data)
    assert msg["Subject"] == "Grüße, Zoë 🎉"
    assert msg["From"].addresses[0].display_name == "Équipe Drip"
    assert "Schön – ça va?" in msg.get_body(("plain",)).get_content()
    assert "<p>Schön – ça va?</p>" in msg.get_body(("html",)).get_content()
