"""The admin pages (/admin/): sequences, their form and preview, enrollments, contacts, the
outbox and the forecast. Each handler maps a request to SQL functions and views (sql/functions,
8xx) and renders a template; every rule and every figure comes from the database."""

import logging
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.types.json import Jsonb
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import queries
from .auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    admin_page,
    close_session,
    credentials_match,
    open_session,
    set_cookie,
)
from .common import fetch_all, fetch_one, render, write
from .forms import TRIGGER_HINTS, TRIGGER_TYPES, WEEKDAYS, FieldError, SequenceForm, field_error

log = logging.getLogger("pgdrip.serve.admin")

PAGE_SIZE = 50
STATUSES = ("active", "completed", "cancelled", "exited")
ZONE_COOKIE = "pgdrip_tz"
SAVED_NOTE = "Saved. Existing enrollments continue from where they are; new enrollments use these steps."


# --- helpers ---------------------------------------------------------------------

def viewer_zone(request: Request) -> str:
    """The zone the viewer reads times in: ?tz=, else the cookie the zone selector sets, else UTC."""
    for candidate in (request.query_params.get("tz"), request.cookies.get(ZONE_COOKIE)):
        if candidate and len(candidate) < 64:
            try:
                ZoneInfo(candidate)
                return candidate
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return "UTC"


def page(request: Request, template: str, context: dict, status_code: int = 200) -> Response:
    zone = viewer_zone(request)
    context = {"session": request.state.session, "tz": zone, "nav": template.split("/")[-1].split(".")[0],
               "flash": request.query_params.get("note"), **context}
    response = render(request, template, context, status_code=status_code, headers=PAGE_HEADERS)
    if request.query_params.get("tz") == zone:
        set_cookie(request, response, ZONE_COOKIE, zone, max_age=365 * 86400)
    return response


PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'self'; frame-src 'self' about:; img-src 'self' data: https:; "
                                           "style-src 'self'; frame-ancestors 'none'; form-action 'self'"}


def back(url: str, note: str | None = None) -> Response:
    if note:
        url += ("&" if "?" in url else "?") + urlencode({"note": note})
    return RedirectResponse(url, status_code=303)


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def form_text(request: Request, name: str) -> str:
    value = request.state.form.get(name)
    return value.strip() if isinstance(value, str) else ""


def path_id(request: Request, name: str = "id") -> int:
    return int(request.path_params[name])


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
    import secrets

    token = secrets.token_urlsafe(24)
    nxt = request.query_params.get("next", "")
    response = render(request, "admin/login.html",
                      {"csrf": token, "error": error, "user": user, "next": nxt if nxt.startswith("/admin/") else ""},
                      status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
    set_cookie(request, response, LOGIN_COOKIE, token, path="/admin/login", samesite="strict")
    return response


async def login(request: Request) -> Response:
    import hmac

    settings = request.app.state.settings
    if not settings.admin_password:
        return Response("Not Found\n", status_code=404, media_type="text/plain")
    limiter = request.app.state.login_limiter
    who = request.client.host if request.client else "?"
    wait = limiter.retry_after(who)
    if wait:
        return _login_page(request, f"Too many failed sign-ins. Try again in {wait} seconds.", 429,
                           headers={"Retry-After": str(wait)})
    form = await request.form(max_files=0, max_fields=10, max_part_size=4096)
    user, password = str(form.get("user") or ""), str(form.get("password") or "")
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf") or "").encode(), expected.encode()):
        return _login_page(request, "The sign-in form expired. Please try again.", 403, user)
    if not credentials_match(settings, user, password):
        limiter.failed(who)
        log.warning("admin sign-in failed from %s", who)
        return _login_page(request, "Wrong user name or password.", 401, user)
    limiter.succeeded(who)
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
    text = (q.get("q") or "").strip()[:200] or None
    number = max(1, min(int(q.get("page")) if (q.get("page") or "").isdigit() else 1, 100000))
    params = {"q": text and text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),
              "trigger": trigger, "limit": PAGE_SIZE, "offset": (number - 1) * PAGE_SIZE}
    order = queries.ADMIN_SEQUENCE_SORTS[sort].format(dir=direction)
    rows = await fetch_all(request, queries.ADMIN_SEQUENCES.format(order=order), params)
    total = (await fetch_one(request, queries.ADMIN_SEQUENCE_COUNT, params))["n"]
    return page(request, "admin/sequences.html", {
        "rows": rows, "total": total, "sort": sort, "dir": direction, "trigger": trigger or "", "q": text or "",
        "page_no": number, "pages": max(1, -(-total // PAGE_SIZE)), "trigger_types": TRIGGER_TYPES})


@admin_page
async def set_active(request: Request) -> Response:
    active = form_text(request, "active") == "on"
    try:
        await write(request, queries.ADMIN_SET_ACTIVE, {"id": path_id(request), "active": active})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(form_text(request, "back") if form_text(request, "back").startswith("/admin/") else "/admin/sequences",
                f"Sequence {path_id(request)} is {'active' if active else 'inactive'} now.")


@admin_page
async def duplicate(request: Request) -> Response:
    try:
        row = await write(request, queries.ADMIN_DUPLICATE, {"id": path_id(request)})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(f"/admin/sequences/{row['id']}/edit", "Duplicated. The copy is inactive until you switch it on.")


async def _form_page(request: Request, form: SequenceForm, errors: list[FieldError] | None = None,
                     previews: dict | None = None, status_code: int = 200) -> Response:
    zones = await fetch_all(request, queries.ADMIN_TIME_ZONES, {})
    errors = errors or []
    return page(request, "admin/sequence_form.html", {
        "form": form, "errors": {e.field: e for e in errors if e.field},
        "form_errors": [e for e in errors if not e.field], "previews": previews or {},
        "trigger_types": TRIGGER_TYPES, "trigger_hints": TRIGGER_HINTS, "weekdays": WEEKDAYS,
        "zones": [z["name"] for z in zones]}, status_code=status_code)


@admin_page
async def new_sequence(request: Request) -> Response:
    prefab = request.query_params.get("prefab")
    if prefab:
        try:
            row = await fetch_one(request, queries.ADMIN_PREFAB, {"prefab": prefab})
        except psycopg.Error as exc:
            return error_page(request, exc)
        form = SequenceForm.from_prefab(row["prefab"])
    else:
        form = SequenceForm(values={"trigger_type": "tag_added", "time_zone": "UTC", "reentry": "after_completion"})
        form.apply_op("add")
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
    sequence_id = int(request.path_params["id"]) if "id" in request.path_params else None
    form = SequenceForm.from_post(sequence_id, request.state.form)
    op = form_text(request, "op") or "save"
    if form.apply_op(op):
        return await _form_page(request, form)
    if op.startswith("preview:"):
        index = op.split(":", 1)[1]
        preview = await _preview(request, form, int(index) if index.isdigit() else -1)
        return await _form_page(request, form, previews={int(index): preview} if index.isdigit() else {})
    try:
        row = await write(request, queries.ADMIN_SAVE_SEQUENCE, {
            "id": sequence_id, "sequence": Jsonb(form.sequence_json()), "steps": Jsonb(form.steps_json())})
    except psycopg.Error as exc:
        return await _form_page(request, form, [field_error(exc)], status_code=422)
    return back(f"/admin/sequences/{row['id']}/edit", SAVED_NOTE)


async def _preview(request: Request, form: SequenceForm, index: int) -> dict:
    if not 0 <= index < len(form.steps):
        return {"error": "There is no such step."}
    step = form.steps[index]
    contact = None
    if form.preview_contact:
        found = await fetch_one(request, queries.CONTACT_ID, {"key": form.preview_contact})
        if found is None:
            return {"error": f"No contact {form.preview_contact!r}: enter an email address or a contact id."}
        contact = found["id"]
    try:
        row = await fetch_one(request, queries.ADMIN_PREVIEW, {"subject": step.subject, "html_body": step.html_body,
                                                              "contact": contact, "step": step.id})
    except psycopg.Error as exc:
        return {"error": field_error(exc).message}
    return row or {"error": "Nothing to preview."}


@admin_page
async def preview(request: Request) -> Response:
    """htmx: the live preview of one step of the form, as typed."""
    form = SequenceForm.from_post(None, request.state.form)
    index = form_text(request, "index")
    result = await _preview(request, form, int(index) if index.isdigit() else -1)
    return render(request, "admin/_preview.html", {"preview": result}, headers=PAGE_HEADERS)


# --- enrollments -----------------------------------------------------------------------

def _enrollment_filter(params) -> dict:
    status = params.get("status") if params.get("status") in STATUSES else None
    email = (params.get("email") or "").strip()[:320] or None
    return {"status": status, "email": email}


@admin_page
async def enrollments(request: Request) -> Response:
    sequence_id = path_id(request)
    sequence = await fetch_one(request, queries.SEQUENCE, {"id": sequence_id})
    if sequence is None:
        return page(request, "admin/error.html", {"message": f"Sequence {sequence_id} does not exist."}, 404)
    filt = _enrollment_filter(request.query_params)
    after = request.query_params.get("after", "")
    after_contact, _, after_id = after.partition("-")
    rows = await fetch_all(request, queries.ADMIN_ENROLLMENTS, {
        "id": sequence_id, **filt, "limit": PAGE_SIZE + 1,
        "after_contact": int(after_contact) if after_contact.isdigit() else None,
        "after_id": int(after_id) if after_id.isdigit() else None})
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
async def cancel_one(request: Request) -> Response:
    target = form_text(request, "back")
    try:
        row = await write(request, queries.CANCEL, {"id": path_id(request)})
    except psycopg.Error as exc:
        return error_page(request, exc)
    note = (f"Enrollment {path_id(request)} is cancelled." if row["was_active"]
            else f"Enrollment {path_id(request)} had already ended.")
    return back(target if target.startswith("/admin/") else "/admin/sequences", note)


@admin_page
async def cancel_matching_confirm(request: Request) -> Response:
    sequence_id = path_id(request)
    sequence = await fetch_one(request, queries.SEQUENCE, {"id": sequence_id})
    if sequence is None:
        return page(request, "admin/error.html", {"message": f"Sequence {sequence_id} does not exist."}, 404)
    filt = _enrollment_filter(request.query_params)
    count = 0  # only active enrollments can be cancelled
    if filt["status"] in (None, "active"):
        count = (await fetch_one(request, queries.ADMIN_COUNT_ENROLLMENTS,
                                 {"id": sequence_id, "status": "active", "email": filt["email"]}))["n"]
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
    return back(f"/admin/sequences/{sequence_id}/enrollments" + (f"?{query}" if query else ""),
                f"{row['n']} enrollment(s) cancelled.")


# --- contacts --------------------------------------------------------------------------

@admin_page
async def find_contact(request: Request) -> Response:
    key = (request.query_params.get("q") or "").strip()[:320]
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
async def unsubscribe_contact(request: Request) -> Response:
    contact_id = path_id(request)
    try:
        row = await write(request, queries.ADMIN_UNSUBSCRIBE, {"id": contact_id})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back(f"/admin/contacts/{contact_id}",
                "Unsubscribed: every enrollment and queued message of this contact is cancelled." if row["changed"]
                else "This contact was already unsubscribed.")


# --- outbox, health and forecast ---------------------------------------------------------

@admin_page
async def outbox(request: Request) -> Response:
    after = request.query_params.get("after", "")
    status = await fetch_one(request, queries.STATUS, {})
    failed = await fetch_all(request, queries.ADMIN_FAILED, {"after": int(after) if after.isdigit() else None,
                                                             "limit": PAGE_SIZE + 1})
    more = len(failed) > PAGE_SIZE
    failed = failed[:PAGE_SIZE]
    return page(request, "admin/outbox.html", {
        "status": status, "failed": failed, "now": datetime.now().astimezone(),
        "next_url": f"?after={failed[-1]['id']}" if more else None, "first_url": "?" if after else None})


@admin_page
async def retry(request: Request) -> Response:
    which = form_text(request, "id")
    ids = [int(which)] if which.isdigit() else None
    if which and ids is None:
        return page(request, "admin/error.html", {"message": "Retry which message? The id must be a number."}, 400)
    try:
        row = await write(request, queries.RETRY, {"ids": ids})
    except psycopg.Error as exc:
        return error_page(request, exc)
    return back("/admin/outbox", f"{row['n']} message(s) queued again.")


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
    Route("/admin/sequences/{id:int}/edit", edit_sequence, methods=["GET"]),
    Route("/admin/sequences/{id:int}/edit", save_sequence, methods=["POST"]),
    Route("/admin/sequences/{id:int}/active", set_active, methods=["POST"]),
    Route("/admin/sequences/{id:int}/duplicate", duplicate, methods=["POST"]),
    Route("/admin/sequences/{id:int}/enrollments", enrollments, methods=["GET"]),
    Route("/admin/sequences/{id:int}/enrollments/cancel", cancel_matching_confirm, methods=["GET"]),
    Route("/admin/sequences/{id:int}/enrollments/cancel", cancel_matching, methods=["POST"]),
    Route("/admin/enrollments/{id:int}/cancel", cancel_one, methods=["POST"]),
    Route("/admin/preview", preview, methods=["POST"]),
    Route("/admin/contacts", find_contact, methods=["GET"]),
    Route("/admin/contacts/{id:int}", contact, methods=["GET"]),
    Route("/admin/contacts/{id:int}/unsubscribe", unsubscribe_contact, methods=["POST"]),
    Route("/admin/outbox", outbox, methods=["GET"]),
    Route("/admin/outbox/retry", retry, methods=["POST"]),
    Route("/admin/forecast", forecast, methods=["GET"]),
]
