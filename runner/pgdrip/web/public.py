"""The recipients' side of `pgdrip serve`: tracked links, one-click unsubscribe, /healthz.
Each handler is one SQL call; the database decides what a token is worth."""

import ipaddress
import logging
import uuid

import psycopg
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import queries
from .common import db, fetch_all, fetch_one, render

log = logging.getLogger("pgdrip.serve")

MAX_FORM_BYTES = 8192
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NO_REFERRER = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def client_ip(request: Request) -> str | None:
    """The peer's address; uvicorn replaces it from X-Forwarded-For only when the peer is one of
    PGDRIP_TRUSTED_PROXIES (see cli.serve)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def token_of(request: Request) -> str | None:
    """The token in the path, if the database can be asked about it at all: text with a NUL
    (%00) cannot be sent to PostgreSQL, and is no token of ours anyway. The database judges the
    rest."""
    token = request.path_params["token"]
    return None if "\x00" in token else token


async def tracked_link(request: Request) -> Response:
    """GET or HEAD /c/TOKEN: record the click, redirect to the URL stored with the message."""
    token = token_of(request)
    if token is None:
        return not_found(request)
    # drip.record_click is repeatable with the same request id: asked again after a lost
    # connection, it returns the URL without recording the click twice
    row = await fetch_one(request, queries.RECORD_CLICK, {
        "token": token, "method": request.method, "ip": client_ip(request),
        "agent": request.headers.get("user-agent", "").replace("\x00", ""), "request": uuid.uuid4(), "again": False},
        repeatable=True)
    url = row["url"]
    if url is None:
        return not_found(request)
    if url == "":  # the honeypot: nothing to see
        return Response(status_code=204, headers=NO_REFERRER)
    return RedirectResponse(url, status_code=302, headers=NO_REFERRER)


async def unsubscribe_page(request: Request) -> Response:
    """GET /u/TOKEN: a page with a button. It never unsubscribes by itself (scanners GET links)."""
    token = token_of(request)
    target = None if token is None else await fetch_one(request, queries.UNSUBSCRIBE_TARGET, {"token": token},
                                                        repeatable=True)
    if target is None:
        return not_found(request)
    # the preference page (behaviour 23): the mail's topic, the contact's topics, or all mail
    topics = await fetch_all(request, queries.UNSUBSCRIBE_TOPICS, {"token": token})
    return render(request, "unsubscribe.html", {"target": target, "topics": topics}, headers=NO_REFERRER)


async def unsubscribe(request: Request) -> Response:
    """POST /u/TOKEN with List-Unsubscribe=One-Click (RFC 8058): unsubscribe at once, repeatably;
    no cookie, no login, no redirect."""
    token = token_of(request)
    if token is None:
        return not_found(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        return PlainTextResponse("Send the form as application/x-www-form-urlencoded or multipart/form-data.\n",
                                 status_code=415)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return PlainTextResponse("The request body is too large.\n", status_code=413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return PlainTextResponse("The request body is too large.\n", status_code=413)
    form = await _form(request, content_type, body)
    if form is None or form.get("List-Unsubscribe") != "One-Click":
        return PlainTextResponse("Expected the body List-Unsubscribe=One-Click (RFC 8058).\n", status_code=400)
    via = "page" if form.get("from") == "page" else "one-click"
    # the one-click POST leaves the mail's topic (or all mail, for mail without one); the page
    # may choose: its topic, another, or all mail (drip.unsubscribe_by_token judges the choice)
    scope = form.get("scope") if via == "page" else None
    if scope is not None and (len(scope) > 30 or "\x00" in scope):
        return PlainTextResponse("Unknown choice.\n", status_code=400)
    try:
        # repeatable: a second unsubscribe of the same contact changes nothing (RFC 8058)
        row = await fetch_one(request, queries.UNSUBSCRIBE_BY_TOKEN, {"token": token, "via": via, "scope": scope},
                              repeatable=True)
    except psycopg.errors.InvalidParameterValue:
        return PlainTextResponse("Unknown choice.\n", status_code=400)
    if row["contact_id"] is None:
        return not_found(request)
    if via == "page":
        target = await fetch_one(request, queries.UNSUBSCRIBE_TARGET, {"token": token}, repeatable=True)
        topics = await fetch_all(request, queries.UNSUBSCRIBE_TOPICS, {"token": token})
        return render(request, "unsubscribed.html", {"target": target, "topics": topics}, headers=NO_REFERRER)
    return PlainTextResponse("You are unsubscribed.\n", headers=NO_REFERRER)


async def _form(request: Request, content_type: str, body: bytes) -> dict[str, str] | None:
    """The form fields of a body already read (and size-checked); None if it is not a form."""
    from urllib.parse import parse_qs

    if content_type == "application/x-www-form-urlencoded":
        try:
            return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=False).items()}
        except UnicodeDecodeError:
            return None
    from starlette.datastructures import Headers
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def replay():
        yield body

    try:
        form = await MultiPartParser(Headers(scope=request.scope), replay(), max_files=0, max_fields=10).parse()
    except MultiPartException:
        return None
    return {k: v for k, v in form.items() if isinstance(v, str)}


HEALTH_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    """200 while the database answers what clicks and unsubscribes need (drip.mail_settings)
    within 2 seconds, by its own statement timeout; 503 otherwise."""
    try:
        async with db(request, timeout=3) as conn, conn.transaction():
            await conn.execute(queries.HEALTH_TIMEOUT, {"ms": str(int(HEALTH_TIMEOUT_SECONDS * 1000))})
            await conn.execute(queries.HEALTH_PROBE)
    except Exception as exc:  # the pool's timeout, the statement's, a lost server: not healthy, and say why
        log.warning("healthz: database unavailable (%s)", " ".join(str(exc).split()))
        return PlainTextResponse("database unavailable\n", status_code=503)
    return PlainTextResponse("ok\n")


def not_found(request: Request) -> Response:
    return render(request, "not_found.html", {}, status_code=404, headers=NO_REFERRER)


routes = [
    Route("/c/{token}", tracked_link, methods=["GET", "HEAD"]),
    Route("/u/{token}", unsubscribe_page, methods=["GET"]),
    Route("/u/{token}", unsubscribe, methods=["POST"]),
    Route("/healthz", healthz, methods=["GET"]),
]
