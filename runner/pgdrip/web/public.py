"""The recipients' side of `pgdrip serve`: tracked links, one-click unsubscribe, /healthz.
Each handler is one SQL call; the database decides what a token is worth."""

import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import queries
from .common import fetch_one, render

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


async def tracked_link(request: Request) -> Response:
    """GET or HEAD /c/TOKEN: record the click, redirect to the URL stored with the message."""
    row = await fetch_one(request, queries.RECORD_CLICK, {
        "token": request.path_params["token"], "method": request.method, "ip": client_ip(request),
        "agent": request.headers.get("user-agent", "")})
    url = row["url"]
    if url is None:
        return not_found(request)
    if url == "":  # the honeypot: nothing to see
        return Response(status_code=204, headers=NO_REFERRER)
    return RedirectResponse(url, status_code=302, headers=NO_REFERRER)


async def unsubscribe_page(request: Request) -> Response:
    """GET /u/TOKEN: a page with a button. It never unsubscribes by itself (scanners GET links)."""
    target = await fetch_one(request, queries.UNSUBSCRIBE_TARGET, {"token": request.path_params["token"]})
    if target is None:
        return not_found(request)
    return render(request, "unsubscribe.html", {"target": target}, headers=NO_REFERRER)


async def unsubscribe(request: Request) -> Response:
    """POST /u/TOKEN with List-Unsubscribe=One-Click (RFC 8058): unsubscribe at once, repeatably;
    no cookie, no login, no redirect."""
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
    row = await fetch_one(request, queries.UNSUBSCRIBE_BY_TOKEN, {"token": request.path_params["token"], "via": via})
    if row["contact_id"] is None:
        return not_found(request)
    if via == "page":
        return render(request, "unsubscribed.html", {}, headers=NO_REFERRER)
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


async def healthz(request: Request) -> Response:
    """200 while the database answers, 503 otherwise."""
    try:
        await fetch_one(request, queries.PROBE, {}, timeout=3)
    except Exception as exc:  # the pool's timeout, a lost server: not healthy, and say why
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
