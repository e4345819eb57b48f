"""Turns an outbox row into the bytes handed to a mail server."""

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr
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


def build_envelope(row: dict, settings: RunSettings) -> Envelope:
    """row: an outbox row (id, contact_id, to_address, subject, html_body, message_id)."""
    html = row["html_body"]
    link = settings.unsubscribe_link(row["contact_id"])
    if settings.brand_header or settings.brand_footer:
        html = f"{settings.brand_header}{html}{settings.brand_footer}"
    if link:
        html += f'<p style="font-size:small">Don\'t want these emails? <a href="{link}">Unsubscribe</a>.</p>'

    msg = EmailMessage(policy=SMTP)
    msg["From"] = one_line(settings.from_address)
    msg["To"] = one_line(row["to_address"])
    msg["Subject"] = one_line(row["subject"])
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = one_line(row["message_id"])
    if link:
        msg["List-Unsubscribe"] = f"<{one_line(link)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(html_to_text(html), cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    sender = parseaddr(settings.from_address)[1] or "pgdrip@localhost"
    return Envelope(sender, one_line(row["to_address"]), msg.as_bytes(), row["message_id"])
