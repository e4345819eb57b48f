"""Turns an outbox row into the bytes handed to a mail server.

The database renders everything a reader sees (subject, HTML and text parts, branding, the
unsubscribe link and List-Unsubscribe); this module only wraps those in headers and MIME."""

import binascii
import re
import time
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache

import dkim
import idna

from .settings import RunSettings

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


class MessageError(Exception):
    """The row cannot become a message (an address that no mail system can carry, say)."""


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes
    message_id: str
    # the recipient's local part is not ASCII: only a server offering SMTPUTF8 can take it
    smtputf8: bool = False


def one_line(value: str) -> str:
    """No header value may carry a line break: that is how headers get injected."""
    return _CONTROL.sub(" ", value).strip()


def mail_address(address: str) -> tuple[str, bool]:
    """An address as it travels: its domain in IDNA (ASCII) form, and whether its local part
    needs SMTPUTF8. Raises MessageError for an address that cannot be encoded."""
    local, sep, domain = one_line(address).rpartition("@")
    if not sep or not local or not domain:
        raise MessageError(f"not an email address: {address!r}")
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise MessageError(f"cannot encode the domain of {address!r} with IDNA: {exc}") from None
    return f"{local}@{domain}", not local.isascii()


# The MIME is written out directly: the email package's EmailMessage spends ~4 ms per message
# re-parsing and re-folding headers it was just given, which made the drain CPU-bound. The
# output is plain RFC 5322 + MIME: CRLF line ends, quoted-printable UTF-8 bodies, RFC 2047
# encoded words for non-ASCII headers; 7-bit unless the recipient's own address is UTF-8
# (RFC 6532). tests/unit/test_message.py parses it back.
def _header(value: str) -> str:
    value = one_line(value)
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


@lru_cache(maxsize=16)
def from_header(value: str) -> tuple[str, str]:
    """PGDRIP_FROM as a header and as the envelope sender, worked out once (parsing an address
    per message was a quarter of the drain's CPU)."""
    name, addr = parseaddr(one_line(value))
    header = formataddr((name, addr), charset="utf-8") if name else (addr or one_line(value))
    return header, addr or "pgdrip@localhost"


@lru_cache(maxsize=4)
def _date(second: int) -> str:
    return formatdate(second, usegmt=True)


# Both parts are quoted-printable, in which "=_" can never occur ("=" is always followed by two
# hex digits or a line break): a boundary that starts with it can never appear inside a part.
BOUNDARY = "=_pgdrip_part"


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


def build_envelope(row: dict, settings: RunSettings) -> Envelope:
    """row: an outbox row (id, to_address, subject, html_body, text_body, list_unsubscribe,
    message_id), rendered by the database."""
    recipient, smtputf8 = mail_address(row["to_address"])
    boundary = BOUNDARY
    from_value, sender = from_header(settings.from_address)
    headers = [
        f"From: {from_value}",
        f"To: {recipient}",
        f"Subject: {_header(row['subject'])}",
        f"Date: {_date(int(time.time()))}",
        f"Message-ID: {one_line(row['message_id'])}",
        "MIME-Version: 1.0",
    ]
    if row.get("list_id"):
        headers.append(f"List-Id: {one_line(row['list_id'])}")
    if row.get("list_unsubscribe"):
        value = one_line(row["list_unsubscribe"])
        headers.append(f"List-Unsubscribe: {value}")
        if "<https://" in value or "<http://" in value:
            headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    part_head = "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    head = "\r\n".join(headers).encode("utf-8" if smtputf8 else "ascii", "replace")
    if row.get("text_body") is None:  # queued before the database rendered text parts
        data = b"".join([head, b"\r\n", part_head.format("html").encode(), _qp(row["html_body"])])
    else:
        data = b"".join([
            head, b"\r\n", f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n{part_head.format('plain')}".encode(), _qp(row["text_body"]), b"\r\n",
            f"--{boundary}\r\n{part_head.format('html')}".encode(), _qp(row["html_body"]), b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ])
    if settings.dkim:
        data = dkim_signed(data, *settings.dkim)
    return Envelope(sender, recipient, data, row["message_id"], smtputf8)


# RFC 8058 asks that the signature cover both List-Unsubscribe headers; the others are the ones
# a forger would change.
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type", b"list-id",
                  b"list-unsubscribe", b"list-unsubscribe-post"]


def dkim_signed(data: bytes, key: bytes, selector: bytes, domain: bytes) -> bytes:
    """The message with a DKIM-Signature (relaxed/relaxed, rsa-sha256 or ed25519 by the key)."""
    present = {line.split(b":", 1)[0].strip().lower() for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
               if b":" in line and not line[:1].isspace()}
    signature = dkim.sign(data, selector, domain, key, canonicalize=(b"relaxed", b"relaxed"),
                          include_headers=[h for h in SIGNED_HEADERS if h in present], linesep=b"\r\n")
    return signature + data
