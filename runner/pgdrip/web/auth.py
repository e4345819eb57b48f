"""Who may use the admin pages: the login form, server-side sessions, CSRF tokens and the
login rate limit.

A session cookie is a random token; the database keeps only a SHA-256 of it, keyed by the
credentials it was opened with (drip.admin_sessions): a leaked table opens nothing, a change of
PGDRIP_ADMIN_USER or PGDRIP_ADMIN_PASSWORD ends every session (the stored hashes no longer
match any cookie), and signing out deletes the row, so a copied cookie stops working at once.
How long a session lives is drip.admin_session's rule. Every POST carries the session's CSRF
token (a form field, or the X-CSRF-Token header htmx sends)."""

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from .. import queries
from .common import fetch_one, render

SESSION_COOKIE = "pgdrip_admin"
LOGIN_COOKIE = "pgdrip_login"  # the login form's own CSRF token (double submit): no session yet
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

# Failed sign-ins allowed per client address in the window, then 429 until the oldest expires.
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60.0

Handler = Callable[[Request], Awaitable[Response]]


def token_hash(settings, token: str) -> bytes:
    """What the database keeps of a session cookie: SHA-256 over the credentials' own hash and the
    token, so that the same cookie under other credentials is another, unknown, session."""
    credentials = hashlib.sha256(b"pgdrip admin credentials\0" + settings.admin_user.encode() + b"\0"
                                 + (settings.admin_password or "").encode()).digest()
    return hashlib.sha256(credentials + token.encode()).digest()


class LoginLimiter:
    """Failed sign-ins per client address, in memory: one `pgdrip serve` process is what the
    admin pages run in, and a restart forgetting the count is harmless."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self.failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        now = time.monotonic()
        seen = self.failures[key]
        while seen and seen[0] < now - self.window:
            seen.popleft()
        if not seen:
            del self.failures[key]
            return deque()
        return seen

    def retry_after(self, key: str) -> int:
        """Seconds until this address may try again; 0 if it may now."""
        seen = self._recent(key)
        if len(seen) < self.max_failures:
            return 0
        return max(1, int(seen[0] + self.window - time.monotonic()) + 1)

    def failed(self, key: str) -> None:
        self._recent(key)
        self.failures[key].append(time.monotonic())
        if len(self.failures) > 10000:  # a flood of addresses: forget the oldest rather than grow
            self.failures.pop(next(iter(self.failures)))

    def succeeded(self, key: str) -> None:
        self.failures.pop(key, None)

    def attempt(self, key: str, check: Callable[[], bool]) -> tuple[bool, int]:
        """One sign-in, judged and counted in one step: nothing in here awaits, so no other request
        of this process runs between the look at the count and the count itself (40 sign-ins that
        arrive together are judged one after the other, and the sixth wrong one is never checked).
        (True, 0): signed in. (False, 0): wrong, and counted. (False, seconds): refused unchecked
        until the oldest failure expires."""
        wait = self.retry_after(key)
        if wait:
            return False, wait
        if check():
            self.succeeded(key)
            return True, 0
        self.failed(key)
        return False, 0


def credentials_match(settings, user: str, password: str) -> bool:
    # compare both, always, in constant time: no early answer tells which one was wrong
    user_ok = hmac.compare_digest(user.encode(), settings.admin_user.encode())
    password_ok = hmac.compare_digest(password.encode(), (settings.admin_password or "").encode())
    return user_ok and password_ok


def set_cookie(request: Request, response: Response, name: str, value: str, path: str = "/admin",
               samesite: str = "lax", max_age: int | None = None) -> None:
    response.set_cookie(name, value, path=path, httponly=True, samesite=samesite, max_age=max_age,
                        secure=request.app.state.settings.secure_cookies)


async def open_session(request: Request, response: Response, user: str) -> None:
    token = secrets.token_urlsafe(32)
    await fetch_one(request, queries.ADMIN_SESSION_OPEN,
                    {"user": user, "hash": token_hash(request.app.state.settings, token),
                     "csrf": secrets.token_urlsafe(24)})
    set_cookie(request, response, SESSION_COOKIE, token)


async def close_session(request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await fetch_one(request, queries.ADMIN_SESSION_CLOSE, {"hash": token_hash(request.app.state.settings, token)})


async def current_session(request: Request) -> dict | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    return await fetch_one(request, queries.ADMIN_SESSION, {"hash": token_hash(request.app.state.settings, token)})


def csrf_ok(request: Request, session: dict, form_value: str | None) -> bool:
    given = request.headers.get(CSRF_HEADER) or form_value or ""
    return hmac.compare_digest(given.encode(), session["csrf"].encode())


def admin_page(handler: Handler) -> Handler:
    """Only for a signed-in admin: otherwise a browser is sent to the login page (an htmx request
    or a POST gets 401). A POST must carry the session's CSRF token, or it gets 403 and changes
    nothing. The session is request.state.session; a POST's form is request.state.form."""

    @wraps(handler)
    async def guarded(request: Request) -> Response:
        if not request.app.state.settings.admin_password:
            return PlainTextResponse("Not Found\n", status_code=404)
        session = await current_session(request)
        if session is None:
            if request.method == "GET" and "hx-request" not in request.headers:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/admin/login?next={quote(target)}", status_code=303)
            return PlainTextResponse("Sign in first.\n", status_code=401)
        request.state.session = session
        if request.method == "POST":
            form = await request.form(max_files=0, max_fields=20000, max_part_size=256 * 1024)
            request.state.form = form
            if not csrf_ok(request, session, form.get(CSRF_FIELD) if isinstance(form.get(CSRF_FIELD), str) else None):
                return render(request, "admin/error.html",
                              {"message": "This form has expired or did not come from these pages. "
                                          "Go back, reload the page and try again."}, status_code=403)
        return await handler(request)

    return guarded
