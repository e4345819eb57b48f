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
from psycopg_pool import AsyncConnectionPool
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


@asynccontextmanager
async def db(request: Request, timeout: float = 10.0) -> AsyncIterator[psycopg.AsyncConnection]:
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection(timeout=timeout) as conn:
        yield conn


async def fetch_one(request: Request, query: str, params: dict, timeout: float = 10.0) -> dict | None:
    """One statement on a pooled connection. A connection the server dropped (a restart, a
    failover, a terminated backend) fails before its statement commits: the pool throws it away,
    and the statement runs once more on another. Cheaper than checking every connection on the
    way out of the pool, which cost a round trip per request."""
    for attempt in (1, 2):
        try:
            async with db(request, timeout) as conn:
                return await (await conn.execute(query, params)).fetchone()
        except psycopg.OperationalError:
            if attempt == 2:
                raise
    return None


async def fetch_all(request: Request, query: str, params: dict, timeout: float = 10.0) -> list[dict]:
    """Like fetch_one, for a read that returns rows."""
    for attempt in (1, 2):
        try:
            async with db(request, timeout) as conn:
                return await (await conn.execute(query, params)).fetchall()
        except psycopg.OperationalError:
            if attempt == 2:
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


class AccessLog:
    """One line per request: method, path (tokens cut), status, milliseconds."""

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
            path = _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", scope.get("path", ""))[:200]
            access.info("%s %s %s %.1fms", scope.get("method"), path, status, (time.perf_counter() - started) * 1000)
