"""Turns an outbox row into the bytes handed to a mail server."""

import binascii
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from html import unescape
from html.parser import HTMLParser

from .settings import RunSettings

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes
    message_id: str


def one_line(value: str) -> str:
    """No header value may carry a line break: that is how headers get injected."""
    return _CONTROL.sub(" ", value).strip()


class _TextExtractor(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.href: str | None = None
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.href:
            self.parts.append(f" ({self.href})")
            self.href = None

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = unescape("".join(parser.parts))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


# The MIME is written out directly: the email package's EmailMessage spends ~4 ms per message
# re-parsing and re-folding headers it was just given, which made the drain CPU-bound. The
# output is plain RFC 5322 + MIME: 7-bit, CRLF line ends, quoted-printable UTF-8 bodies,
# RFC 2047 encoded words for non-ASCII headers. tests/unit/test_message.py parses it back.
def _header(value: str) -> str:
    value = one_line(value)
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _address(value: str) -> str:
    name, addr = parseaddr(one_line(value))
    if not name:
        return addr or one_line(value)
    return formataddr((name, addr), charset="utf-8")


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")


def build_envelope(row: dict, settings: RunSettings) -> Envelope:
    """row: an outbox row (id, contact_id, to_address, subject, html_body, message_id)."""
    html = row["html_body"]
    link = settings.unsubscribe_link(row["contact_id"])
    if settings.brand_header or settings.brand_footer:
        html = f"{settings.brand_header}{html}{settings.brand_footer}"
    if link:
        html += f'<p style="font-size:small">Don\'t want these emails? <a href="{link}">Unsubscribe</a>.</p>'

    boundary = f"=_pgdrip_{secrets.token_hex(12)}"
    headers = [
        f"From: {_address(settings.from_address)}",
        f"To: {_address(row['to_address'])}",
        f"Subject: {_header(row['subject'])}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {one_line(row['message_id'])}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    if link:
        headers.append(f"List-Unsubscribe: <{one_line(link)}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    part_head = "Content-Type: text/{}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
    data = b"".join([
        "\r\n".join(headers).encode("ascii", "replace"), b"\r\n\r\n",
        f"--{boundary}\r\n{part_head.format('plain')}".encode(), _qp(html_to_text(html)), b"\r\n",
        f"--{boundary}\r\n{part_head.format('html')}".encode(), _qp(html), b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ])
    sender = parseaddr(settings.from_address)[1] or "pgdrip@localhost"
    return Envelope(sender, one_line(row["to_address"]), data, row["message_id"])
