"""What the handlers share: a pooled connection, templates, the access log without tokens."""

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HERE = Path(__file__).resolve().parent


class BadRequest(Exception):
    """A request no page of ours sends (a number that is not one, a NUL in a text): answered 400
    with this message, never a 500."""
templates = Jinja2Templates(directory=str(HERE / "templates"))


def when(value: datetime | None, zone: str = "UTC") -> str:
    """A time as the viewer reads it: in their zone, with the zone named."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() if zone != 'UTC' else 'UTC'}"


def age(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


templates.env.filters["when"] = when
templates.env.filters["age"] = age
access = logging.getLogger("pgdrip.serve.access")

# tokens are credentials: the access log shows /c/… and /u/…, never the token
_TOKEN_PATH = re.compile(r"^/(c|u)/[^/]*")


# The recipients' endpoints have a pool of their own, so that no admin page, however slow, can
# take the connections a click or an unsubscribe needs (see app.create_app).
PUBLIC_PREFIXES = ("/c/", "/u/", "/healthz")


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


@asynccontextmanager
async def db(request: Request, timeout: float = 10.0) -> AsyncIterator[psycopg.AsyncConnection]:
    state = request.app.state
    pool: AsyncConnectionPool = state.public_pool if is_public(request.url.path) else state.pool
    async with pool.connection(timeout=timeout) as conn:
        yield conn


def _lost_connection(exc: psycopg.OperationalError) -> bool:
    """A connection that failed under the statement (a restart, a failover, a terminated backend),
    as opposed to the server refusing it or the pool having no connection free: a statement
    timeout and a pool timeout are OperationalErrors too, and trying again only doubles the wait."""
    return not isinstance(exc, psycopg.errors.QueryCanceled | PoolTimeout) and exc.sqlstate is None


async def fetch_one(request: Request, query: str, params: dict, timeout: float = 10.0,
                    repeatable: bool = False) -> dict | None:
    """One statement on a pooled connection. When the connection is lost under it, the statement
    may or may not have committed: it runs once more, on another connection, only if it is
    `repeatable` (a read, or a write that is idempotent by construction: drip.record_click with
    its request id, drip.unsubscribe_by_token); otherwise the error goes up. A statement with an
    `again` parameter is told, with again = true, that it is the second run."""
    for attempt in (1, 2):
        try:
            async with db(request, timeout) as conn:
                return await (await conn.execute(query, params)).fetchone()
        except psycopg.OperationalError as exc:
            if attempt == 2 or not repeatable or not _lost_connection(exc):
                raise
            if "again" in params:
                params = {**params, "again": True}
    return None


async def fetch_all(request: Request, query: str, params: dict, timeout: float = 10.0) -> list[dict]:
    """A read that returns rows; run once more on another connection if the first was lost."""
    for attempt in (1, 2):
        try:
            async with db(request, timeout) as conn:
                return await (await conn.execute(query, params)).fetchall()
        except psycopg.OperationalError as exc:
            if attempt == 2 or not _lost_connection(exc):
                raise
    return []


async def write(request: Request, query: str, params: dict, timeout: float = 10.0) -> dict | None:
    """One statement that changes something, run once: if the connection drops, the change may
    have committed, and running it again could do it twice (a second duplicate, say)."""
    async with db(request, timeout) as conn:
        return await (await conn.execute(query, params)).fetchone()


def render(request: Request, name: str, context: dict, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """Control characters written as escapes (\\x0a): a request cannot forge a log line."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        text)


def loggable_path(path: str) -> str:
    """A path as logs show it: the token cut (tokens are credentials), control characters escaped."""
    return printable(_TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path))[:200]


class AccessLog:
    """One line per request: method, path (tokens cut, control characters escaped), status,
    milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if access.isEnabledFor(logging.INFO):
                access.info("%s %s %s %.1fms", printable(str(scope.get("method"))),
                            loggable_path(scope.get("path", "")), status, (time.perf_counter() - started) * 1000)


# The headers every answer carries unless its handler set its own (the admin pages set theirs):
# no framing, no sniffing, no caching of pages that hold tokens or personal data, and a
# Content-Security-Policy with no inline script or style. HSTS when the public URL is https.
PUBLIC_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
              "frame-ancestors 'none'; base-uri 'none'")
ADMIN_CSP = ("default-src 'self'; frame-src 'self' about:; img-src 'self' data: https:; style-src 'self'; "
             "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        static = path.startswith("/static/")
        csp = ADMIN_CSP if path.startswith("/admin") else PUBLIC_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}
                if not static:
                    defaults.update({"content-security-policy": csp, "cache-control": "no-store",
                                     "referrer-policy": "no-referrer"})
                if self.hsts:
                    defaults["strict-transport-security"] = HSTS
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
