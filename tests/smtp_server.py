"""A real SMTP server for tests (aiosmtpd) that records what it accepts and fails on request.

The recipient's local part chooses a fault: reject* → 550 5.1.1 (no such mailbox), unknown* →
550 "User unknown" (no enhanced status), unavailable* → RFC 5321's generic "550 Requested action
not taken: mailbox unavailable", policy* → 550 5.7.1 (refused as spam), tempfail* → 451,
busy* → 421, stall* → no answer to DATA for `stall_seconds`, drop* → the connection dies
mid-DATA. `on_data`, if set, is called with each accepted envelope before the 250 reply.
It offers PIPELINING, as Postfix, Exim and the big providers do, unless `pipelining` is off."""

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.lock = threading.Lock()
        self.faults = True
        self.stall_seconds = 5.0
        self.accept_times: list[float] = []
        self.keep = True  # False for benchmarks: count, but do not hold every message in memory
        self.accepted = 0
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) of each accepted message
        self.on_data: Callable[[Envelope], None] | None = None
        self.pipelining = True

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:  # aiosmtpd reads commands one line at a time, so pipelined ones just work
            responses.insert(-1, "250-PIPELINING")
        return responses

    def _fault(self, rcpt: str) -> str | None:
        if not self.faults:
            return None
        local = rcpt.split("@", 1)[0].lower()
        for prefix in ("reject", "unknown", "unavailable", "policy", "tempfail", "busy", "stall", "drop"):
            if local.startswith(prefix):
                return prefix
        return None

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        fault = self._fault(address)
        if fault == "reject":
            return "550 5.1.1 mailbox unavailable"
        if fault == "unknown":
            return "550 User unknown"
        if fault == "unavailable":
            return "550 Requested action not taken: mailbox unavailable"
        if fault == "tempfail":
            return "451 4.3.0 try again later"
        if fault == "busy":
            return "421 4.3.2 service shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self._fault(envelope.rcpt_tos[0])
        if fault == "stall":
            await asyncio.sleep(self.stall_seconds)
        if fault == "drop":
            server.transport.close()
            return "451 dropped"
        if fault == "policy":
            return "550 5.7.1 message refused as spam"
        if self.on_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.on_data, envelope)
        data = envelope.original_content or envelope.content
        with self.lock:
            self.accepted += 1
            if self.keep:
                self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                self.raw.append(data)
                self.messages.append(message_from_bytes(data))
                self.accept_times.append(time.monotonic())
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]


class SmtpServer:
    """Start/stop on a fixed port, so a test can take the server away and bring it back."""

    def __init__(self, port: int | None = None, pipelining: bool = True, **controller_kwargs: object) -> None:
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.handler.pipelining = pipelining
        # e.g. ssl_context= (implicit TLS), server_kwargs={"tls_context": ...}; aiosmtpd's Controller
        # offers SMTPUTF8 unless told not to, and many relays do not: off unless a test asks
        self.kwargs = {"enable_SMTPUTF8": False, **controller_kwargs}
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=3"

    def start(self) -> "SmtpServer":
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def wait_for(self, n: int, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.handler.messages) >= n:
                return True
            time.sleep(0.02)
        return False


if __name__ == "__main__":  # a separate-process sink for benchmarks: python -m tests.smtp_server PORT [--discard]
    import sys

    server = SmtpServer(int(sys.argv[1]))
    server.handler.keep = "--discard" not in sys.argv
    server.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
