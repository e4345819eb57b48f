"""Who may use the admin pages: closed without a password, a login with a rate limit, sessions
that end at sign-out, CSRF on every POST; and /metrics for machines."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.acceptance.serve_process import serving
from tests.browser.conftest import ADMIN_ENV, PASSWORD, sign_in
from tests.helpers import add_contact, add_sequence, add_tag, tag

GET_PAGES = ["/admin/", "/admin/sequences", "/admin/sequences/new", "/admin/sequences/1/edit",
             "/admin/sequences/1/enrollments", "/admin/sequences/1/enrollments/cancel", "/admin/contacts",
             "/admin/contacts/1", "/admin/outbox", "/admin/forecast"]
POSTS = ["/admin/sequences/new", "/admin/sequences/1/edit", "/admin/sequences/1/active", "/admin/sequences/1/duplicate",
         "/admin/sequences/1/enrollments/cancel", "/admin/enrollments/1/cancel", "/admin/preview",
         "/admin/contacts/1/unsubscribe", "/admin/outbox/retry", "/admin/logout"]


def _login(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    form = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    return client.post("/admin/login", data={"user": "marketing", "password": password, "csrf": csrf})


def test_without_a_password_the_admin_pages_do_not_exist(dsn, tmp_home):
    with serving(dsn, tmp_home) as server:
        for path in [*GET_PAGES, "/admin/login"]:
            assert httpx.get(server.url + path).status_code == 404, path
        assert httpx.post(server.url + "/admin/login", data={"user": "admin", "password": ""}).status_code == 404


def test_no_page_without_login_and_no_change_either(server, db):
    seq = add_sequence(db, name="News", active=False)
    with httpx.Client(base_url=server.url) as client:
        for path in GET_PAGES:
            r = client.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/admin/login?next="), path
        for path in POSTS:
            assert client.post(path, data={"active": "on"}).status_code == 401, path
        # a made-up cookie is no session
        client.cookies.set("pgdrip_admin", "forged", path="/admin")
        assert client.get("/admin/sequences").status_code == 303
    assert db.execute("select active from drip.sequences where id = %s", (seq,)).fetchone()["active"] is False
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 1


def test_a_post_without_the_csrf_token_is_refused(server, db):
    seq = add_sequence(db, name="News", active=False)
    with httpx.Client(base_url=server.url) as client:
        assert _login(client).status_code == 303
        page = client.get("/admin/sequences")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post(f"/admin/sequences/{seq}/active", data={"active": "on"}).status_code == 403
        assert client.post(f"/admin/sequences/{seq}/active",
                           data={"active": "on", "csrf": "x" + csrf[1:]}).status_code == 403
        assert db.execute("select active from drip.sequences").fetchone()["active"] is False
        # the right token, as a form field or as htmx's header
        assert client.post(f"/admin/sequences/{seq}/active", data={"active": "on", "csrf": csrf}).status_code == 303
        assert db.execute("select active from drip.sequences").fetchone()["active"] is True
        assert client.post(f"/admin/sequences/{seq}/active", headers={"X-CSRF-Token": csrf}).status_code == 303
        assert db.execute("select active from drip.sequences").fetchone()["active"] is False
        # the login form has its own token
        r = client.post("/admin/login", data={"user": "marketing", "password": PASSWORD})
        assert r.status_code == 403


def test_log_out_in_the_browser_and_the_old_cookie_is_refused(page, server, db):
    sign_in(page)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "pgdrip_admin"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # http://127.0.0.1
    assert db.execute("select count(*) as n from drip.admin_sessions").fetchone()["n"] == 1
    stored = db.execute("select token_hash from drip.admin_sessions").fetchone()["token_hash"]
    assert cookie["value"].encode() not in bytes(stored)  # only its hash is kept
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/admin/login"))
    assert db.execute("select count(*) as n from drip.admin_sessions").fetchone()["n"] == 0
    with httpx.Client(base_url=server.url) as client:
        client.cookies.set("pgdrip_admin", cookie["value"], path="/admin")
        assert client.get("/admin/sequences").status_code == 303
        assert client.post("/admin/outbox/retry").status_code == 401
    page.goto("/admin/sequences")
    expect(page).to_have_url(re.compile("/admin/login"))


def test_wrong_passwords_are_rate_limited(server):
    with httpx.Client(base_url=server.url) as client:
        r = _login(client, "wrong")
        assert r.status_code == 401 and "Wrong user name or password" in r.text
        for _ in range(4):
            assert _login(client, "wrong").status_code == 401
        r = _login(client)  # even the right password waits now
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "pgdrip_admin" not in client.cookies


def test_https_public_url_makes_the_cookie_secure(dsn, tmp_home):
    env = {**ADMIN_ENV, "PGDRIP_PUBLIC_URL": "https://mail.example.com", "PGDRIP_SECRET": "s" * 24}
    with serving(dsn, tmp_home, env) as server, httpx.Client(base_url=server.url) as client:
        form = client.get("/admin/login")
        login_cookie = form.headers["set-cookie"]
        assert login_cookie.startswith("pgdrip_login=") and "Secure" in login_cookie
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        # plain http here stands for the TLS proxy in front, which would send the cookie back
        client.cookies.set("pgdrip_login", csrf, path="/admin/login")
        r = client.post("/admin/login", data={"user": "marketing", "password": PASSWORD, "csrf": csrf})
        assert r.status_code == 303
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("pgdrip_admin=")][0]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_metrics_come_from_the_database(server, db):
    seq = add_sequence(db, "tag_added", "news", name="News")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    db.execute("call drip.dispatch_due()")
    db.execute("update drip.outbox set status = 'sent', sent_at = now()")
    text = httpx.get(server.url + "/metrics").text
    figures = dict(re.findall(r"^(pgdrip_[a-z_]+(?:\{[^}]*\})?) (\S+)$", text, re.M))
    status = db.execute("select * from drip.status").fetchone()
    assert float(figures["pgdrip_queued"]) == status["queued"] == 0
    assert float(figures["pgdrip_due_now"]) == status["due_now"]
    assert float(figures[f'pgdrip_sent_total{{sequence="News",sequence_id="{seq}"}}']) == 1.0
    assert "pgdrip_oldest_queued_age_seconds" in figures and "pgdrip_runners_seen" in figures
    db.execute("update drip.outbox set status = 'failed'")
    text = httpx.get(server.url + "/metrics").text
    assert re.search(r"^pgdrip_failed 1\.0$", text, re.M)


def test_metrics_count_steps_held_back_by_a_cap(server, db):
    seq = add_sequence(db, "tag_added", "news", name="News", steps=[(0, "one", "<p>1</p>")])
    add_sequence(db, "tag_added", "news", name="Other", steps=[(0, "two", "<p>2</p>")])
    db.execute("insert into drip.frequency_caps (max_messages, per) values (1, '1 day')")
    tag(db, add_contact(db, "ada@example.com", "Ada"), add_tag(db, "news"))
    db.execute("call drip.dispatch_due()")
    text = httpx.get(server.url + "/metrics").text
    figures = dict(re.findall(r"^(pgdrip_[a-z_]+(?:\{[^}]*\})?) (\S+)$", text, re.M))
    held = sum(float(v) for k, v in figures.items() if k.startswith("pgdrip_cap_deferred_total"))
    assert held == 1.0
    assert f'pgdrip_cap_deferred_total{{sequence="News",sequence_id="{seq}"}}' in figures


@pytest.mark.parametrize("env", [{"PGDRIP_METRICS": "off"}, {"PGDRIP_METRICS_ALLOW": "10.9.9.9"}])
def test_metrics_can_be_turned_off_or_limited(dsn, tmp_home, env):
    with serving(dsn, tmp_home, env) as server:
        assert httpx.get(server.url + "/metrics").status_code == 404


def test_pages_are_not_cached_not_framed_and_run_no_inline_script_and_an_idle_session_ends(server, db):
    with httpx.Client(base_url=server.url) as client:
        assert _login(client).status_code == 303
        r = client.get("/admin/sequences")
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["x-frame-options"] == "DENY"
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src" not in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        # idle for more than 12 hours: the session is gone
        db.execute("update drip.admin_sessions set seen_at = now() - interval '12 hours 1 minute'")
        r = client.get("/admin/sequences")
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
