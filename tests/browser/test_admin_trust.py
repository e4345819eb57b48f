"""Issue 18, section 3: a sign-in limit that holds under concurrency, sessions that end when the
credentials change and after a fixed age, a status box the URL cannot write, no 5xx on odd
parameters, and an unknown filter refused instead of read as "everything"."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from urllib.parse import urlencode

import httpx
import pytest

from tests.acceptance.serve_process import serving
from tests.browser.conftest import ADMIN_ENV, PASSWORD
from tests.helpers import add_contact, add_sequence, add_tag, tag

PHISH = "Your session expired: call +1 555 0100 and give us your password"


def _signed_in(url: str, password: str = PASSWORD, user: str = "marketing") -> tuple[httpx.Client, str]:
    """An httpx client with an admin session, and the session's CSRF token."""
    client = httpx.Client(base_url=url)
    form = client.get("/admin/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = client.post("/admin/login", data={"user": user, "password": password, "csrf": token})
    assert r.status_code == 303, r.text
    page = client.get("/admin/sequences")
    assert page.status_code == 200
    return client, re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


# --- the five-failures limit: one atomic check-and-count ----------------------------------

async def _sign_ins_whose_bodies_arrive_together(port: int, token: str, passwords: list[str]) -> list[str]:
    """Sends every request's headers first, then, once the server has them all, the bodies of all
    but the last at once, and the last one's after them. Returns each raw response."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in passwords]
    bodies = [urlencode({"user": "marketing", "password": pw, "csrf": token}).encode() for pw in passwords]
    for (_, writer), body in zip(connections, bodies, strict=True):
        writer.write(f"POST /admin/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
                     f"Cookie: pgdrip_login={token}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
    await asyncio.sleep(1.0)  # every request is in the app now, waiting for its body
    for (_, writer), body in zip(connections[:-1], bodies[:-1], strict=True):
        writer.write(body)
    await asyncio.gather(*(w.drain() for _, w in connections[:-1]))
    await asyncio.sleep(0.5)
    connections[-1][1].write(bodies[-1])
    answers = []
    for reader, writer in connections:
        answers.append((await asyncio.wait_for(reader.read(), 30)).decode("latin-1"))
        writer.close()
    return answers


def test_forty_wrong_sign_ins_at_once_then_the_right_one_is_refused(server, db):
    with httpx.Client(base_url=server.url) as client:
        form = client.get("/admin/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    # in a thread of its own: Playwright's sync API may hold this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, _sign_ins_whose_bodies_arrive_together(
            server.port, token, [f"guess-{i}" for i in range(40)] + [PASSWORD])).result(120)
    statuses = [int(a.split(" ", 2)[1]) for a in answers]
    assert statuses[:40].count(401) == 5, statuses  # five wrong ones were checked, the rest refused unchecked
    assert statuses[:40].count(429) == 35, statuses
    assert statuses[40] == 429, answers[40][:400]   # locked out: even the right password waits
    assert not any("pgdrip_admin=" in a for a in answers)
    assert db.execute("select count(*) as n from drip.admin_sessions").fetchone()["n"] == 0


# --- sessions: bound to the credentials, and a fixed maximum age ---------------------------

@pytest.mark.parametrize("change", [{"PGDRIP_ADMIN_PASSWORD": "another long passphrase"},
                                    {"PGDRIP_ADMIN_USER": "someone-else"}])
def test_a_new_password_or_user_ends_every_session(dsn, tmp_home, db, change):
    with serving(dsn, tmp_home, ADMIN_ENV) as first:
        client, _ = _signed_in(first.url)
        cookie = client.cookies["pgdrip_admin"]
        client.close()
    # the same credentials again: the session lives on through a restart
    with serving(dsn, tmp_home, ADMIN_ENV) as same, httpx.Client(base_url=same.url) as client:
        client.cookies.set("pgdrip_admin", cookie, path="/admin")
        assert client.get("/admin/sequences").status_code == 200
    with serving(dsn, tmp_home, {**ADMIN_ENV, **change}) as changed, httpx.Client(base_url=changed.url) as client:
        client.cookies.set("pgdrip_admin", cookie, path="/admin")
        r = client.get("/admin/sequences")
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
        assert client.post("/admin/outbox/retry").status_code == 401
    assert db.execute("select count(*) as n from drip.admin_sessions").fetchone()["n"] == 1  # no new one


def test_a_session_ends_a_day_after_sign_in_however_busy(server, db):
    client, _ = _signed_in(server.url)
    with closing(client):
        db.execute("update drip.admin_sessions set created_at = now() - interval '23 hours 50 minutes', "
                   "seen_at = now()")
        assert client.get("/admin/sequences").status_code == 200
        db.execute("update drip.admin_sessions set created_at = now() - interval '24 hours 1 minute', "
                   "seen_at = now()")
        r = client.get("/admin/sequences")
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


# --- the status box says only what the server chose ---------------------------------------

def test_the_status_box_never_shows_text_from_the_url(server, db):
    seq = add_sequence(db, name="News", active=False)
    client, csrf = _signed_in(server.url)
    with closing(client):
        for path in ("/admin/sequences", f"/admin/sequences/{seq}/edit", "/admin/outbox", "/admin/contacts"):
            r = client.get(path, params={"note": PHISH})
            assert r.status_code == 200 and "Your session expired" not in r.text, path
            assert 'role="status"' not in r.text
        # a status cookie the server did not sign for this session is ignored too
        client.cookies.set("pgdrip_note", "activated.7.0123456789abcdef0123456789abcdef", path="/admin")
        r = client.get("/admin/sequences")
        assert "is active now" not in r.text and 'role="status"' not in r.text
        client.cookies.delete("pgdrip_note", path="/admin")
        # what an action reports is still shown, once
        r = client.post(f"/admin/sequences/{seq}/active", data={"active": "on", "csrf": csrf}, follow_redirects=True)
        assert re.search(rf'role="status">Sequence {seq} is active now\.<', r.text)
        assert 'role="status"' not in client.get("/admin/sequences").text


# --- odd parameters: 4xx or ignored, never 5xx ---------------------------------------------

HUGE = "9" * 5000
BEYOND_BIGINT = "99999999999999999999"


def test_odd_parameters_never_answer_5xx(server, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (24, "Two", "<p>2</p>")], name="News")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    db.execute("call drip.dispatch_due()")
    db.execute("update drip.outbox set status = 'failed', last_error = 'x'")
    enrollment = db.execute("select id from drip.enrollments").fetchone()["id"]
    step = db.execute("select id from drip.sequence_steps where step_order = 1").fetchone()["id"]
    form = {"name": "News", "trigger_type": "tag_added", "trigger_value": "news", "time_zone": "UTC",
            "reentry": "after_completion", "active": "on", "step_count": "1", "steps-0-id": str(step),
            "steps-0-delay_hours": "0", "steps-0-subject": "One", "steps-0-html_body": "<p>1</p>",
            "steps-0-active": "on"}
    gets = [
        ("/admin/sequences", {"page": "²"}), ("/admin/sequences", {"page": HUGE}),
        ("/admin/sequences", {"page": BEYOND_BIGINT}), ("/admin/sequences", {"page": "-1"}),
        ("/admin/sequences", {"q": "a\x00b"}), ("/admin/sequences", {"q": "x" * 5000}),
        ("/admin/sequences", {"tz": "America"}), ("/admin/sequences", {"tz": "Etc"}),
        ("/admin/sequences", {"tz": "../../../etc/passwd"}), ("/admin/sequences", {"tz": "Europe\x00"}),
        ("/admin/sequences", {"tz": "zone.tab"}), ("/admin/sequences", {"sort": "²", "dir": "\x00"}),
        (f"/admin/sequences/{seq}/enrollments", {"after": "²"}),
        (f"/admin/sequences/{seq}/enrollments", {"after": "²-²"}),
        (f"/admin/sequences/{seq}/enrollments", {"after": f"1-{HUGE}"}),
        (f"/admin/sequences/{seq}/enrollments", {"after": f"{BEYOND_BIGINT}-1"}),
        (f"/admin/sequences/{seq}/enrollments", {"email": "a\x00@example.com"}),
        (f"/admin/sequences/{seq}/enrollments", {"status": "\x00"}),
        (f"/admin/sequences/{seq}/enrollments", {"status": "bogus"}),
        (f"/admin/sequences/{seq}/enrollments", {"tz": "America"}),
        (f"/admin/sequences/{seq}/enrollments/cancel", {"status": "bogus"}),
        (f"/admin/sequences/{seq}/enrollments/cancel", {"email": "\x00"}),
        ("/admin/outbox", {"after": "²"}), ("/admin/outbox", {"after": HUGE}),
        ("/admin/outbox", {"after": BEYOND_BIGINT}),
        ("/admin/contacts", {"q": "\x00"}), ("/admin/contacts", {"q": "²"}), ("/admin/contacts", {"q": HUGE}),
        ("/admin/sequences/new", {"prefab": "\x00"}), ("/admin/sequences/new", {"prefab": "²"}),
        (f"/admin/sequences/{BEYOND_BIGINT}/edit", {}), (f"/admin/sequences/{HUGE}/enrollments", {}),
        ("/admin/contacts/²", {}), (f"/admin/contacts/{BEYOND_BIGINT}", {}),
        (f"/admin/enrollments/{BEYOND_BIGINT}/cancel", {}),
        (f"/admin/enrollments/{enrollment}/cancel", {"back": "\x00"}),
        (f"/admin/contacts/{BEYOND_BIGINT}/unsubscribe", {}),
    ]
    posts = [
        (f"/admin/sequences/{seq}/edit", {"step_count": "²"}),
        (f"/admin/sequences/{seq}/edit", {"step_count": HUGE}),
        (f"/admin/sequences/{seq}/edit", {"step_count": BEYOND_BIGINT}),
        (f"/admin/sequences/{seq}/edit", {"op": "preview:²"}),
        (f"/admin/sequences/{seq}/edit", {"op": f"preview:{BEYOND_BIGINT}"}),
        (f"/admin/sequences/{seq}/edit", {"op": f"preview:{HUGE}"}),
        (f"/admin/sequences/{seq}/edit", {"op": "up:²"}), (f"/admin/sequences/{seq}/edit", {"op": f"down:{HUGE}"}),
        (f"/admin/sequences/{seq}/edit", {"send_days": "²"}),
        (f"/admin/sequences/{seq}/edit", {"send_days": BEYOND_BIGINT}),
        (f"/admin/sequences/{seq}/edit", {"send_days": HUGE}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-id": "²"}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-id": BEYOND_BIGINT}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-id": HUGE}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-delay_hours": "²"}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-delay_hours": HUGE}),
        (f"/admin/sequences/{seq}/edit", {"name": "a\x00b"}),
        (f"/admin/sequences/{seq}/edit", {"steps-0-subject": "a\x00b"}),
        (f"/admin/sequences/{seq}/edit", {"time_zone": "America"}),
        (f"/admin/sequences/{seq}/edit", {"send_window_start": "²"}),
        (f"/admin/sequences/{seq}/edit", {"preview_contact": "\x00", "op": "preview:0"}),
        (f"/admin/sequences/{seq}/edit", {"preview_contact": HUGE, "op": "preview:0"}),
        (f"/admin/sequences/{seq}/edit", {"active": "\x00"}),
        ("/admin/sequences/new", {"steps-0-id": "1"}),
        ("/admin/preview", {"index": "²"}), ("/admin/preview", {"index": HUGE}),
        ("/admin/preview", {"index": "0", "preview_contact": "\x00"}),
        ("/admin/preview", {"index": "0", "preview_contact": "a\x00@example.com"}),
        ("/admin/outbox/retry", {"id": "²"}), ("/admin/outbox/retry", {"id": BEYOND_BIGINT}),
        ("/admin/outbox/retry", {"id": HUGE}),
        (f"/admin/sequences/{seq}/enrollments/cancel", {"email": "\x00"}),
        (f"/admin/sequences/{seq}/active", {"back": "\x00"}),
        (f"/admin/enrollments/{BEYOND_BIGINT}/cancel", {}),
        (f"/admin/contacts/{HUGE}/unsubscribe", {}),
    ]
    client, csrf = _signed_in(server.url)
    answers = []
    with closing(client):
        for path, params in gets:
            answers.append((f"GET {path} {params!r}"[:160], client.get(path, params=params).status_code))
        client.cookies.set("pgdrip_tz", "Europe", path="/admin")
        answers.append(("GET cookie pgdrip_tz=Europe", client.get("/admin/sequences").status_code))
        client.cookies.set("pgdrip_tz", "America", path="/admin")
        answers.append(("GET cookie pgdrip_tz=America", client.get(f"/admin/sequences/{seq}/enrollments").status_code))
        client.cookies.delete("pgdrip_tz", path="/admin")
        for path, fields in posts:
            data = {**(form if "/edit" in path or path in ("/admin/sequences/new", "/admin/preview") else {}),
                    **fields, "csrf": csrf}
            answers.append((f"POST {path} {fields!r}"[:160], client.post(path, data=data).status_code))
    failed = [(what, status) for what, status in answers if status >= 500]
    assert failed == [], failed
    assert "Traceback" not in server.log
    # nothing was written by any of them: the sequence and its steps are as they were
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 1
    assert [r["subject"] for r in db.execute("select subject from drip.sequence_steps order by step_order")] == \
        ["One", "Two"]
    assert db.execute("select status from drip.enrollments").fetchone()["status"] == "active"


def test_unicode_digits_and_directories_as_zones_are_ignored_or_refused_with_4xx(server, db):
    seq = add_sequence(db, name="News")
    client, csrf = _signed_in(server.url)
    with closing(client):
        assert client.get("/admin/sequences", params={"page": "²"}).status_code == 400
        assert client.get("/admin/outbox", params={"after": "²"}).status_code == 400
        assert client.post("/admin/outbox/retry", data={"id": "²", "csrf": csrf}).status_code == 400
        assert client.get(f"/admin/sequences/{BEYOND_BIGINT}/edit").status_code == 404
        assert client.get("/admin/contacts", params={"q": "\x00"}).status_code == 400
        r = client.get("/admin/sequences", params={"tz": "America"})  # a directory: ignored, UTC it is
        assert r.status_code == 200 and "pgdrip_tz=" not in r.headers.get("set-cookie", "")
        client.cookies.set("pgdrip_tz", "Europe", path="/admin")
        assert client.get(f"/admin/sequences/{seq}/enrollments").status_code == 200


# --- an unknown status filter is refused, never read as "any status" -----------------------

def test_bulk_cancel_with_an_unknown_status_cancels_nothing(server, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (24, "Two", "<p>2</p>")], name="News")
    news = add_tag(db, "news")
    for email in ("ada@example.com", "grace@example.com"):
        tag(db, add_contact(db, email), news)
    db.execute("call drip.dispatch_due()")
    client, csrf = _signed_in(server.url)
    with closing(client):
        for status in ("activ", "ACTIVE", "any", "active ", "'; --"):
            r = client.post(f"/admin/sequences/{seq}/enrollments/cancel", data={"status": status, "csrf": csrf})
            assert 400 <= r.status_code < 500, (status, r.status_code)
            assert "status must be active, completed, cancelled or exited" in r.text
            confirm = client.get(f"/admin/sequences/{seq}/enrollments/cancel", params={"status": status})
            assert 400 <= confirm.status_code < 500 and "Cancel 2 enrollment(s)" not in confirm.text
            listing = client.get(f"/admin/sequences/{seq}/enrollments", params={"status": status})
            assert 400 <= listing.status_code < 500
        assert db.execute("select count(*) as n from drip.enrollments where status = 'active'").fetchone()["n"] == 2
        assert db.execute("select count(*) as n from drip.outbox where status = 'queued'").fetchone()["n"] == 2
        # no status at all is every active one, as the confirmation said
        assert "Cancel 2 enrollment(s)" in client.get(f"/admin/sequences/{seq}/enrollments/cancel").text
        r = client.post(f"/admin/sequences/{seq}/enrollments/cancel", data={"status": "", "csrf": csrf})
        assert r.status_code == 303
    assert db.execute("select count(*) as n from drip.enrollments where status = 'cancelled'").fetchone()["n"] == 2


# --- cancelling one enrollment and unsubscribing ask first ---------------------------------

def test_cancel_one_and_unsubscribe_show_a_confirmation_that_changes_nothing(server, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>")], name="News")
    ada = add_contact(db, "ada@example.com")
    tag(db, ada, add_tag(db, "news"))
    enrollment = db.execute("select id from drip.enrollments").fetchone()["id"]
    client, csrf = _signed_in(server.url)
    with closing(client):
        listing = client.get(f"/admin/sequences/{seq}/enrollments").text
        # the list offers a link to a confirmation, not a form that cancels at once
        assert f'action="/admin/enrollments/{enrollment}/cancel"' not in listing
        assert f'href="/admin/enrollments/{enrollment}/cancel?back=' in listing
        contact = client.get(f"/admin/contacts/{ada}").text
        assert f'action="/admin/contacts/{ada}/unsubscribe"' not in contact
        assert f'action="/admin/enrollments/{enrollment}/cancel"' not in contact
        confirm = client.get(f"/admin/enrollments/{enrollment}/cancel")
        assert confirm.status_code == 200 and "Cancel this enrollment" in confirm.text
        unsubscribe = client.get(f"/admin/contacts/{ada}/unsubscribe")
        assert unsubscribe.status_code == 200 and 'id="active-count">1<' in unsubscribe.text
        assert db.execute("select status from drip.enrollments").fetchone()["status"] == "active"
        assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
        # the confirmation's own form does it
        assert client.post(f"/admin/contacts/{ada}/unsubscribe", data={"csrf": csrf}).status_code == 303
    assert db.execute("select status from drip.enrollments").fetchone()["status"] == "cancelled"
