"""The admin pages (/admin/): sequences, their form and preview, enrollments, contacts, the
outbox and the forecast. Each handler maps a request to SQL functions and views (sql/functions,
8xx) and renders a template; every rule and every figure comes from the database."""

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache, wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, available_timezones

import psycopg
from psycopg.types.json import Jsonb
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import queries
from .auth import LOGIN_COOKIE, SESSION_COOKIE, close_session, credentials_match, open_session, set_cookie
from .auth import admin_page as signed_in
from .common import BadRequest, fetch_all, fetch_one, render, write
from .forms import TRIGGER_HINTS, TRIGGER_TYPES, WEEKDAYS, FieldError, SequenceForm, field_error

log = logging.getLogger("pgdrip.serve.admin")

PAGE_SIZE = 50
STATUSES = ("active", "completed", "cancelled", "exited")  # the filter's choices; SQL judges what is sent
ZONE_COOKIE = "pgdrip_tz"
NOTE_COOKIE = "pgdrip_note"
# What the status box can say, after an action redirects back: the server picks one of these and
# the count, in a cookie signed with the session's CSRF token; nothing in the URL reaches the box.
NOTES = {
    "saved": "Saved. Existing enrollments continue from where they are; new enrollments use these steps.",
    "activated": "Sequence {n} is active now.",
    "deactivated": "Sequence {n} is inactive now.",
    "duplicated": "Duplicated. The copy is inactive until you switch it on.",
    "cancelled": "Enrollment {n} is cancelled.",
    "had_ended": "Enrollment {n} had already ended.",
    "cancelled_many": "{n} enrollment(s) cancelled.",
    "unsubscribed": "Unsubscribed: every enrollment and queued message of this contact is cancelled.",
    "was_unsubscribed": "This contact was already unsubscribed.",
    "retried": "{n} message(s) queued again.",
}


class DatabaseId(Convertor):
    """A path id: ASCII digits that fit a bigint. Anything else matches no route (404)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("dbid", DatabaseId())


# --- helpers ---------------------------------------------------------------------

def admin_page(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in admin (auth.admin_page) that answers a request no page of ours sends
    (odd numbers, NUL in a text, a value PostgreSQL cannot take) with 400, never 500."""

    @signed_in
    @wraps(handler)
    async def checked(request: Request) -> Response:
        try:
            return await handler(request)
        except BadRequest as exc:
            return page(request, "admin/error.html", {"message": str(exc)}, status_code=400)
        except psycopg.DataError as exc:  # a value PostgreSQL refuses to even take (class 22)
            log.info("%s %s: refused a value: %s", request.method, request.url.path, str(exc).splitlines()[0])
            return page(request, "admin/error.html",
                        {"message": "The database cannot take a value of this request.",
                         "sqlstate": getattr(exc, "sqlstate", None) or ""}, status_code=400)

    return checked


def number_param(value: object, what: str) -> int | None:
    """An optional whole number from a query or form field: None when empty; ASCII digits that fit
    a bigint, else 400 (no Unicode digits, nothing longer than 18 digits)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    raise BadRequest(f"{what} must be a whole number.")


def text_param(value: object, what: str, limit: int = 1000, strip: bool = True) -> str:
    """A text parameter as given (stripped, unless told not to), or 400 if PostgreSQL could not
    store it (NUL) or it is longer than any value it is compared with."""
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise BadRequest(f"{what} is not a text the database can search for.")
    return value.strip() if strip else value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def viewer_zone(request: Request) -> str:
    """The zone the viewer reads times in: ?tz=, else the cookie the zone selector sets, else UTC.
    A name that is no zone (a directory such as America, a file that is no zone) is ignored."""
    for candidate in (request.query_params.get("tz"), request.cookies.get(ZONE_COOKIE)):
        if candidate and candidate in _zones():
            try:
                ZoneInfo(candidate)
                return candidate
            except (ValueError, OSError):
                continue
    return "UTC"


def _note_signature(session: dict, value: str) -> str:
    return hmac.new(session["csrf"].encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def _take_note(request: Request) -> str | None:
    """The status message an action left for this page, if the server signed it for this session."""
    raw = request.cookies.get(NOTE_COOKIE) or ""
    code, _, rest = raw.partition(".")
    count, _, signature = rest.partition(".")
    if code not in NOTES or not re.fullmatch(r"[0-9]{1,18}", count) or not hmac.compare_digest(
            signature.encode(), _note_signature(request.state.session, f"{code}.{count}").encode()):
        return None
    return NOTES[code].format(n=int(count))


def page(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    zone = viewer_zone(request)
    context = {"session": request.state.session, "tz": zone, "nav": template.split("/")[-1].split(".")[0],
               "flash": _take_note(request), **context}
    response = render(request, template, context, status_code=status_code, headers=PAGE_HEADERS)
    if request.query_params.get("tz") == zone:
        set_cookie(request, response, ZONE_COOKIE, zone, max_age=365 * 86400)
    if NOTE_COOKIE in request.cookies:
        response.delete_cookie(NOTE_COOKIE, path="/admin")
    return response


PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'self'; frame-src 'self' about:; img-src 'self' data: https:; "
                                           "style-src 'self'; frame-ancestors 'none'; form-action 'self'"}


def back(request: Request, url: str, note: str, count: int = 0) -> Response:
    """Redirect after an action, leaving the status message NOTES[note] for the next page."""
    response = RedirectResponse(url, status_code=303)
    value = f"{note}.{count}"
    set_cookie(request, response, NOTE_COOKIE, f"{value}.{_note_signature(request.state.session, value)}",
               samesite="strict", max_age=300)
    return response


def back_to(request: Request, default: str) -> str:
    """Where the form says to go back to: a page of these admin pages, else the default."""
    target = request.state.form.get("back")
    if isinstance(target, str) and target.startswith("/admin/") and "//" not in target and "\\" not in target:
        return target
    return default


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def form_text(request: Request, name: str) -> str:
    value = request.state.form.get(name)
    return value.strip() if isinstance(value, str) else ""


def path_id(request: Request, name: str = "id") -> int:
    return request.path_params[name]  # DatabaseId: a bigint already


def error_page(request: Request, exc: psycopg.Error, status_code: int = 422) -> Response:
    error = field_error(exc)
    return page(request, "admin/error.html", {"message": error.message, "hint": error.hint,
                                              "sqlstate": error.sqlstate}, status_code=status_code)


# --- sign in and out -----------------------------------------------------------------

async def login_form(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.admin_password:
        return Response("Not Found\n", status_code=404, media_type="text/plain")
    return _login_page(request, "", status_code=200)


def _login_page(request: Request, error: str, status_code: int, user: str = "",
                headers: dict | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    nxt = request.query_params.get("next", "")
    response = render(request, "admin/login.html",
                      {"csrf": token, "error": error, "user": user, "next": nxt if nxt.startswith("/admin/") else ""},
                      status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
    set_cookie(request, response, LOGIN_COOKIE, token, path="/admin/login", samesite="strict")
    return response


async def login(request: Request) -> Response:
    settings = request.app.state.settings
    if not settings.admin_password:
        return Response("Not Found\n", status_code=404, media_type="text/plain")
    who = request.client.host if request.client else "?"
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    user, password = str(form.get("user") or ""), str(form.get("password") or "")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf") or "").encode(), expected.encode()):
        return _login_page(request, "The sign-in form expired. Please try again.", 403, user)
    # the body is read: from here to the verdict nothing awaits (LoginLimiter.attempt)
    accepted, wait = request.app.state.login_limiter.attempt(who, lambda: credentials_match(settings, user, password))
    if wait:
        return _login_page(request, f"Too many failed sign-ins. Try again in {wait} seconds.", 429,
                           headers={"Retry-After": str(wait)})
    if not accepted:
        log.warning("admin sign-in failed from %s", who)
        return _login_page(request, "Wrong user name or password.", 401, user)
    nxt = str(form.get("next") or "")
    response = RedirectResponse(nxt if nxt.startswith("/admin/") and "//" not in nxt else "/admin/sequences",
                                status_code=303)
    await open_session(request, response, user)
    response.delete_cookie(LOGIN_COOKIE, path="/admin/login")
    log.info("admin %s signed in from %s", user, who)
    return response


@admin_page
async def logout(request: Request) -> Response:
    await close_session(request)
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


@admin_page
async def home(request: Request) -> Response:
    return RedirectResponse("/admin/sequences", status_code=303)


# --- sequences -------------------------------------------------------------------------

@admin_page
async def sequences(request: Request) -> Response:
    q = request.query_params
    sort = q.get("sort") if q.get("sort") in queries.ADMIN_SEQUENCE_SORTS else "name"
    direction = "desc" if q.get("dir") == "desc" else "asc"
    trigger = q.get("trigger") if q.get("trigger") in TRIGGER_TYPES else None
    search = text_param(q.get("q"), "The search")[:200] or None
    number = max(1, min(number_param(q.get("page"), "The page") or 1, 100000))
    params = {"q": search and search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
              "trigger": trigger, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE}
    order = queries.ADMIN_SEQUENCE_SORTS[sort].format(dir=direction)
    rows = await fetch_all(request, queries.ADMIN_SEQUENCES.format(order=order), params)
    total = (await fetch_one(request, queries.ADMIN_SEQUENCE_COUNT, params))["n"]
    return page(request, "admin/sequences.html", {
        "rows": rows, "total": total, "sort": sort, "dir": direction, "trigger": trigger or "", "q": search or "",
        "page_no": number, "pages": max(1, -(-total // PAGE_SIZE)), "trigger_types": TRIGGER_TYPES})


@admin_page
async def set_active(request: Request) -> Response:
    active = form_text(request, "active") == "on"
    try:
        await write(request, queries.ADMIN_SET_ACTIVE, {"id": path_id(request), "active": active})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(request, back_to(request, "/admin/sequences"), "activated" if active else "deactivated",
                path_id(request))


@admin_page
async def duplicate(request: Request) -> Response:
    try:
        row = await write(request, queries.ADMIN_DUPLICATE, {"id": path_id(request)})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(request, f"/admin/sequences/{row['id']}/edit", "duplicated")


async def _form_page(request: Request, form: SequenceForm, errors: list[FieldError] | None = None,
                     previews: dict | None = None, status_code: int = 200) -> Response:
    zones = await fetch_all(request, queries.ADMIN_TIME_ZONES, {})
    errors = errors or []
    return page(request, "admin/sequence_form.html", {
        "form": form, "errors": {e.field: e for e in errors if e.field},
        "form_errors": [e for e in errors if not e.field], "previews": previews or {},
        "trigger_types": TRIGGER_TYPES, "trigger_hints": TRIGGER_HINTS, "weekdays": WEEKDAYS,
        "zones": [z["name"] for z in zones]}, status_code=status_code)


async def _defaults(request: Request) -> dict:
    """What the database makes of a new sequence and a new step (drip.sequence_defaults)."""
    return (await fetch_one(request, queries.ADMIN_SEQUENCE_DEFAULTS, {}))["defaults"]


@admin_page
async def new_sequence(request: Request) -> Response:
    prefab = request.query_params.get("prefab")
    if prefab:
        try:
            row = await fetch_one(request, queries.ADMIN_PREFAB, {"prefab": text_param(prefab, "The prefab", 100)})
        except psycopg.Error as exc:
            return error_page(request, exc)
        form = SequenceForm.from_prefab(row["prefab"])
    else:
        form = SequenceForm.from_defaults(await _defaults(request))
    return await _form_page(request, form)


@admin_page
async def edit_sequence(request: Request) -> Response:
    sequence_id = path_id(request)
    row = await fetch_one(request, queries.SEQUENCE, {"id": sequence_id})
    if row is None:
        return page(request, "admin/error.html", {"message": f"Sequence {sequence_id} does not exist."}, 404)
    steps = await fetch_all(request, queries.ADMIN_STEPS, {"id": sequence_id})
    return await _form_page(request, SequenceForm.from_row(row, steps))


@admin_page
async def save_sequence(request: Request) -> Response:
    sequence_id = request.path_params.get("id")
    form = SequenceForm.from_post(sequence_id, request.state.form)
    op = form_text(request, "op") or "save"
    if form.apply_op(op, await _defaults(request) if op == "add" else None):
        return await _form_page(request, form)
    if op.startswith("preview:"):
        index = number_param(op.split(":", 1)[1], "The step to preview")
        preview = await _preview(request, form, -1 if index is None else index)
        return await _form_page(request, form, previews={} if index is None else {index: preview})
    try:
        row = await write(request, queries.ADMIN_SAVE_SEQUENCE, {
            "id": sequence_id, "sequence": Jsonb(form.sequence_json()), "steps": Jsonb(form.steps_json())})
    except psycopg.Error as exc:
        return await _form_page(request, form, [field_error(exc)], status_code=422)
    return back(request, f"/admin/sequences/{row['id']}/edit", "saved")


async def _preview(request: Request, form: SequenceForm, index: int) -> dict:
    if not 0 <= index < len(form.steps):
        return {"error": "There is no such step."}
    step = form.steps[index]
    contact = None
    key = text_param(form.preview_contact, "The preview contact", 320)
    if key:
        found = await fetch_one(request, queries.CONTACT_ID, {"key": key})
        if found is None:
            return {"error": f"No contact {key!r}: enter an email address or a contact id."}
        contact = found["id"]
    try:
        row = await fetch_one(request, queries.ADMIN_PREVIEW, {"subject": step.subject, "html_body": step.html_body,
                                                              "contact": contact,
                                                              "step": step.id if isinstance(step.id, int) else None})
    except psycopg.Error as exc:
        return {"error": field_error(exc).message}
    return row or {"error": "Nothing to preview."}


@admin_page
async def preview(request: Request) -> Response:
    """htmx: the live preview of one step of the form, as typed."""
    form = SequenceForm.from_post(None, request.state.form)
    index = number_param(form_text(request, "index"), "The step to preview")
    result = await _preview(request, form, -1 if index is None else index)
    return render(request, "admin/_preview.html", {"preview": result}, headers=PAGE_HEADERS)


# --- enrollments -----------------------------------------------------------------------

def _enrollment_filter(params) -> dict:
    """The filter as given: drip.sequence_enrollments and friends judge it (an unknown status is
    refused there, never read as "any status"); empty means no filter."""
    return {"status": text_param(params.get("status"), "The status", 40, strip=False) or None,
            "email": text_param(params.get("email"), "The email", 320) or None}


@admin_page
async def enrollments(request: Request) -> Response:
    sequence_id = path_id(request)
    sequence = await fetch_one(request, queries.SEQUENCE, {"id": sequence_id})
    if sequence is None:
        return page(request, "admin/error.html", {"message": f"Sequence {sequence_id} does not exist."}, 404)
    filt = _enrollment_filter(request.query_params)
    after = text_param(request.query_params.get("after"), "The page", 40)
    after_contact, _, after_id = after.partition("-")
    try:
        rows = await fetch_all(request, queries.ADMIN_ENROLLMENTS, {
            "id": sequence_id, **filt, "limit": PAGE_SIZE + 1,
            "after_contact": number_param(after_contact, "The page"), "after_id": number_param(after_id, "The page")})
    except psycopg.Error as exc:
        return error_page(request, exc, 400)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = {k: v for k, v in filt.items() if v}
    next_url = None
    if more:
        last = rows[-1]
        next_url = "?" + urlencode({**query, "after": f"{last['contact_id']}-{last['id']}"})
    zones = await fetch_all(request, queries.ADMIN_TIME_ZONES, {})
    return page(request, "admin/enrollments.html", {
        "sequence": sequence, "rows": rows, "filter": filt, "statuses": STATUSES, "next_url": next_url,
        "first_url": f"?{urlencode(query)}" if after else None, "zones": [z["name"] for z in zones],
        "query": urlencode(query), "back": here(request)})


@admin_page
async def cancel_one_confirm(request: Request) -> Response:
    """Cancelling one enrollment is asked first, as cancelling many is."""
    enrollment_id = path_id(request)
    row = await fetch_one(request, queries.ADMIN_ENROLLMENT, {"id": enrollment_id})
    if row is None:
        return page(request, "admin/error.html", {"message": f"Enrollment {enrollment_id} does not exist."}, 404)
    target = request.query_params.get("back") or ""
    return page(request, "admin/cancel_one_confirm.html", {
        "enrollment": row,
        "back": target if target.startswith("/admin/") and "//" not in target and "\\" not in target
        else f"/admin/sequences/{row['sequence_id']}/enrollments"})


@admin_page
async def cancel_one(request: Request) -> Response:
    try:
        row = await write(request, queries.CANCEL, {"id": path_id(request)})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(request, back_to(request, "/admin/sequences"), "cancelled" if row["was_active"] else "had_ended",
                path_id(request))


@admin_page
async def cancel_matching_confirm(request: Request) -> Response:
    sequence_id = path_id(request)
    sequence = await fetch_one(request, queries.SEQUENCE, {"id": sequence_id})
    if sequence is None:
        return page(request, "admin/error.html", {"message": f"Sequence {sequence_id} does not exist."}, 404)
    filt = _enrollment_filter(request.query_params)
    try:
        # only active enrollments can be cancelled: drip.cancel_enrollments counts 0 for another status
        count = (await fetch_one(request, queries.ADMIN_COUNT_CANCELLABLE, {"id": sequence_id, **filt}))["n"]
    except psycopg.Error as exc:
        return error_page(request, exc, 400)
    return page(request, "admin/cancel_confirm.html", {"sequence": sequence, "filter": filt, "count": count})


@admin_page
async def cancel_matching(request: Request) -> Response:
    sequence_id = path_id(request)
    filt = _enrollment_filter(request.state.form)
    try:
        row = await write(request, queries.ADMIN_CANCEL_ENROLLMENTS, {"id": sequence_id, **filt})
    except psycopg.Error as exc:
        return error_page(request, exc)
    query = urlencode({k: v for k, v in filt.items() if v})
    return back(request, f"/admin/sequences/{sequence_id}/enrollments" + (f"?{query}" if query else ""),
                "cancelled_many", row["n"])


# --- contacts --------------------------------------------------------------------------

@admin_page
async def find_contact(request: Request) -> Response:
    key = text_param(request.query_params.get("q"), "The search", 320)
    if key:
        found = await fetch_one(request, queries.CONTACT_ID, {"key": key})
        if found:
            return RedirectResponse(f"/admin/contacts/{found['id']}", status_code=303)
    return page(request, "admin/contact_search.html", {"q": key, "missing": bool(key)}, 404 if key else 200)


@admin_page
async def contact(request: Request) -> Response:
    contact_id = path_id(request)
    row = await fetch_one(request, queries.ADMIN_CONTACT, {"id": contact_id})
    if row is None:
        return page(request, "admin/error.html", {"message": f"Contact {contact_id} does not exist."}, 404)
    enrolled = await fetch_all(request, queries.ADMIN_CONTACT_ENROLLMENTS, {"id": contact_id})
    history = await fetch_all(request, queries.ADMIN_CONTACT_HISTORY, {"id": contact_id})
    return page(request, "admin/contact.html", {"contact": row, "enrollments": enrolled, "history": history,
                                                "back": f"/admin/contacts/{contact_id}"})


@admin_page
async def unsubscribe_confirm(request: Request) -> Response:
    """Unsubscribing a contact is asked first: it cancels all of the contact's mail."""
    contact_id = path_id(request)
    row = await fetch_one(request, queries.ADMIN_CONTACT, {"id": contact_id})
    if row is None:
        return page(request, "admin/error.html", {"message": f"Contact {contact_id} does not exist."}, 404)
    enrolled = await fetch_all(request, queries.ADMIN_CONTACT_ENROLLMENTS, {"id": contact_id})
    return page(request, "admin/unsubscribe_confirm.html", {
        "contact": row, "active": sum(1 for e in enrolled if e["status"] == "active")})


@admin_page
async def unsubscribe_contact(request: Request) -> Response:
    contact_id = path_id(request)
    try:
        row = await write(request, queries.ADMIN_UNSUBSCRIBE, {"id": contact_id})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(request, f"/admin/contacts/{contact_id}", "unsubscribed" if row["changed"] else "was_unsubscribed")


# --- outbox, health and forecast ---------------------------------------------------------

@admin_page
async def outbox(request: Request) -> Response:
    after = number_param(request.query_params.get("after"), "The page")
    status = await fetch_one(request, queries.STATUS, {})
    failed = await fetch_all(request, queries.ADMIN_FAILED, {"after": after, "limit": PAGE_SIZE + 1})
    more = len(failed) > PAGE_SIZE
    failed = failed[:PAGE_SIZE]
    return page(request, "admin/outbox.html", {
        "status": status, "failed": failed, "now": datetime.now().astimezone(),
        "next_url": f"?after={failed[-1]['id']}" if more else None, "first_url": "?" if after is not None else None})


@admin_page
async def retry(request: Request) -> Response:
    which = number_param(request.state.form.get("id"), "Retry which message? The id")
    try:
        row = await write(request, queries.RETRY, {"ids": None if which is None else [which]})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(request, "/admin/outbox", "retried", row["n"])


@admin_page
async def forecast(request: Request) -> Response:
    rows = await fetch_all(request, queries.ADMIN_FORECAST, {}, timeout=30)
    totals = {"next_24h": sum(r["next_24h"] for r in rows), "next_7d": sum(r["next_7d"] for r in rows)}
    return page(request, "admin/forecast.html", {"rows": rows, "totals": totals,
                                                 "now": datetime.now().astimezone()})


routes = [
    Route("/admin", home, methods=["GET"]),
    Route("/admin/", home, methods=["GET"]),
    Route("/admin/login", login_form, methods=["GET"]),
    Route("/admin/login", login, methods=["POST"]),
    Route("/admin/logout", logout, methods=["POST"]),
    Route("/admin/sequences", sequences, methods=["GET"]),
    Route("/admin/sequences/new", new_sequence, methods=["GET"]),
    Route("/admin/sequences/new", save_sequence, methods=["POST"]),
    Route("/admin/sequences/{id:dbid}/edit", edit_sequence, methods=["GET"]),
    Route("/admin/sequences/{id:dbid}/edit", save_sequence, methods=["POST"]),
    Route("/admin/sequences/{id:dbid}/active", set_active, methods=["POST"]),
    Route("/admin/sequences/{id:dbid}/duplicate", duplicate, methods=["POST"]),
    Route("/admin/sequences/{id:dbid}/enrollments", enrollments, methods=["GET"]),
    Route("/admin/sequences/{id:dbid}/enrollments/cancel", cancel_matching_confirm, methods=["GET"]),
    Route("/admin/sequences/{id:dbid}/enrollments/cancel", cancel_matching, methods=["POST"]),
    Route("/admin/enrollments/{id:dbid}/cancel", cancel_one_confirm, methods=["GET"]),
    Route("/admin/enrollments/{id:dbid}/cancel", cancel_one, methods=["POST"]),
    Route("/admin/preview", preview, methods=["POST"]),
    Route("/admin/contacts", find_contact, methods=["GET"]),
    Route("/admin/contacts/{id:dbid}", contact, methods=["GET"]),
    Route("/admin/contacts/{id:dbid}/unsubscribe", unsubscribe_confirm, methods=["GET"]),
    Route("/admin/contacts/{id:dbid}/unsubscribe", unsubscribe_contact, methods=["POST"]),
    Route("/admin/outbox", outbox, methods=["GET"]),
    Route("/admin/outbox/retry", retry, methods=["POST"]),
    Route("/admin/forecast", forecast, methods=["GET"]),
]
