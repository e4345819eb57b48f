"""Senders hand a finished message to a mail server (SMTP) or to a folder (.eml files).

A sender raises TemporaryFailure (retry later) or PermanentFailure (the row fails with the
server's answer); anything it returns from normally was accepted."""

import os
import re
import smtplib
import socket
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import PgdripError
from .message import Envelope


class TemporaryFailure(Exception):
    """Try again later: connection trouble, 4xx replies, timeouts."""


class PermanentFailure(Exception):
    """Do not try again: a 5xx reply. The message is the server's answer."""


class Sender(Protocol):
    def send(self, envelope: Envelope) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool
    timeout: float

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig(host={self.host!r}, port={self.port}, user={self.username!r}, tls={self.implicit_tls})"

    @property
    def display(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpConfig:
    """smtp://[user:pass@]host[:port][?starttls=true&timeout=30], smtps:// for implicit TLS.
    User and password may also come from PGDRIP_SMTP_USER / PGDRIP_SMTP_PASSWORD."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise PgdripError("the SMTP URL is malformed (expected smtp://[user:pass@]host[:port])") from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise PgdripError("the SMTP URL must look like smtp://[user:pass@]host[:port] or smtps://...")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise PgdripError(f"unknown SMTP URL option(s): {', '.join(sorted(unknown))} (use starttls, timeout)")
    try:
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise PgdripError("SMTP URL option timeout must be a number of seconds") from None
    implicit = parts.scheme == "smtps"
    return SmtpConfig(
        host=parts.hostname,
        port=port or (465 if implicit else 25),
        username=unquote(parts.username) if parts.username else os.environ.get("PGDRIP_SMTP_USER") or None,
        password=unquote(parts.password) if parts.password else os.environ.get("PGDRIP_SMTP_PASSWORD") or None,
        implicit_tls=implicit,
        starttls=query.get("starttls", "false").lower() in ("1", "true", "yes"),
        timeout=timeout,
    )


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


class SmtpSender:
    """Keeps one SMTP connection open across messages; reconnects after any trouble."""

    def __init__(self, config: SmtpConfig, ssl_context: ssl.SSLContext | None = None) -> None:
        self.config = config
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    @property
    def ssl_context(self) -> ssl.SSLContext:
        # The system's trust store, plus PGDRIP_SMTP_CA_FILE for a mail server behind a private CA;
        # made when TLS is first used (loading the trust store costs milliseconds per worker).
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context(cafile=os.environ.get("PGDRIP_SMTP_CA_FILE") or None)
        return self._ssl_context

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=self.ssl_context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            smtp.ehlo()
            if c.starttls:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, c.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            # Wrong credentials are an operator's problem: keep the mail queued, say so.
            raise TemporaryFailure(f"SMTP login refused: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            raise TemporaryFailure(f"SMTP connection refused: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot reach SMTP server {c.host}:{c.port}: {exc}") from None
        return smtp

    def send(self, envelope: Envelope) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        options: list[str] = []
        if envelope.smtputf8:
            if not self._smtp.has_extn("smtputf8"):
                raise PermanentFailure(f"the mail server does not offer SMTPUTF8, which {envelope.recipient!r} "
                                       "needs (its local part is not ASCII)")
            options = ["SMTPUTF8", "BODY=8BITMIME"]
        try:
            if self._smtp.has_extn("pipelining"):
                _sendmail_pipelined(self._smtp, envelope, options)
                refused = {}
            else:
                refused = self._smtp.sendmail(envelope.sender, [envelope.recipient], envelope.data, options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._after_reply(code)
            self._raise_for(code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._after_reply(exc.smtp_code)
            self._raise_for(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            self.close()
            self._raise_for(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPException) as exc:  # dropped, timed out, disconnected
            self.close()
            raise TemporaryFailure(f"SMTP connection lost: {exc or type(exc).__name__}") from None
        except Exception:
            # Anything else left the SMTP dialogue in an unknown state (a MAIL without its RCPT,
            # say): reopen it for the next message rather than let that one meet a 503.
            self.close()
            raise
        if refused:  # pragma: no cover - one recipient: either accepted or raised above
            code, text = next(iter(refused.values()))
            self._raise_for(code, text)

    def _after_reply(self, code: int) -> None:
        # 421 means the server is closing the channel; otherwise RSET and keep the connection.
        if code == 421 or self._smtp is None:
            self.close()
            return
        try:
            self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    @staticmethod
    def _raise_for(code: int, text: bytes | str) -> None:
        reply = _reply(code, text)
        if 500 <= code < 600:
            raise PermanentFailure(reply)
        raise TemporaryFailure(reply)

    def abort(self) -> None:
        """From another thread: end a send blocked on the server at once (a graceful stop that
        waited long enough). The blocked call fails as a lost connection does: a TemporaryFailure."""
        smtp = self._smtp
        sock = getattr(smtp, "sock", None) if smtp is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                try:
                    smtp.close()
                except OSError:
                    pass


def _sendmail_pipelined(smtp: smtplib.SMTP, envelope: Envelope, options: list[str]) -> None:
    """RFC 2920 pipelining, which smtplib lacks: MAIL, RCPT and DATA written at once and their
    replies read in order, then the message. Two round trips per message instead of four; the
    drain spent most of its time waiting on those replies. Raises what smtplib.sendmail raises,
    leaving the session as sendmail would before its own RSET (the caller resets or closes)."""
    if envelope.smtputf8:
        smtp.command_encoding = "utf-8"
    extra = (" " + " ".join(options)) if options else ""
    # both addresses are bare addr-specs on one line (pgdrip.message): no parsing needed to quote them
    smtp.send(f"MAIL FROM:<{envelope.sender}>{extra}\r\nRCPT TO:<{envelope.recipient}>\r\nDATA\r\n")
    mail, rcpt, data = smtp.getreply(), smtp.getreply(), smtp.getreply()
    if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
        smtp.send(b".\r\n")  # DATA accepted without a valid recipient: end it empty
        smtp.getreply()
    if mail[0] != 250:
        raise smtplib.SMTPSenderRefused(mail[0], mail[1], envelope.sender)
    if rcpt[0] not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({envelope.recipient: rcpt})
    if data[0] != 354:
        raise smtplib.SMTPDataError(*data)
    body = envelope.data
    if body.startswith(b".") or b"\n." in body:
        body = _LEADING_DOT.sub(b"..", body)
    smtp.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


_LEADING_DOT = re.compile(rb"(?m)^\.")


class FileSender:
    """Writes each message as an .eml file, for newcomers and for testing without a server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, envelope: Envelope) -> None:
        name = "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in envelope.message_id.strip("<>"))
        target = self.directory / f"{name}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(envelope.data)
            os.replace(tmp, target)  # whole file or nothing: a reader never sees half a message
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise TemporaryFailure(f"cannot write {target}: {exc.strerror}") from None

    def close(self) -> None:
        pass


def make_sender_factory(smtp_url: str | None, mail_dir: Path):
    """A function returning a new sender; each drain worker owns one."""
    if smtp_url:
        config = parse_smtp_url(smtp_url)
        return (lambda: SmtpSender(config)), config.display
    return (lambda: FileSender(mail_dir)), str(mail_dir)


__all__ = ["FileSender", "PermanentFailure", "SmtpSender", "TemporaryFailure", "make_sender_factory",
           "parse_smtp_url"]
