"""The recipients' side of a real `pgdrip serve` under bad input and load (issue 18, sections 2
and 4): bad bytes in tokens, forged log lines, security headers, the scanner list over HTTP, a
pool of its own for clicks, /healthz's own timeout, and a click whose answer was lost."""

import re
import socket
import threading
import time

import httpx
import psycopg
import pytest

from tests.acceptance.cli import pgdrip
from tests.acceptance.serve_process import serving
from tests.helpers import add_contact, add_sequence, add_tag, tag
from tests.pg_proxy import PgProxy

SECRET = "a-long-random-secret-for-tests"
BODY = '<p><a href="https://example.com/a">read this</a> or <a href="https://example.com/b">that</a>.</p>'
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"}
PASSWORD = "correct horse battery staple"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def world(db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "Hello", BODY)], name="News")
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    follow = add_sequence(db, "after_first_click", f"step:{step}", steps=[(24, "Glad", "<p>:)</p>")], name="Follow")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    return {"step": step, "follow": follow, "ada": ada}


def send(dsn, db, smtp, home, base: str) -> tuple[list[str], str]:
    """Sends Ada's mail (an hour ago, as far as the bot rules' timing goes); returns its tracked
    links (the honeypot first) and its unsubscribe link, with their tokens."""
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=home,
               env={"PGDRIP_PUBLIC_URL": base, "PGDRIP_SECRET": SECRET})
    assert r.returncode == 0, r.stderr
    db.execute("update drip.outbox set sent_at = now() - interval '1 hour'")
    [msg] = smtp.handler.messages
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    hrefs = re.findall(r'href="([^"]*)"', html)
    return [h for h in hrefs if "/c/" in h], next(h for h in hrefs if "/u/" in h)


def raw_request(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def sign_in(http: httpx.Client) -> None:
    form = http.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    r = http.post("/admin/login", data={"user": "admin", "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 303, r.text


# --- section 2: bad input, log lines, headers, bots ----------------------------------------------

def test_bad_bytes_in_a_token_get_4xx_and_no_traceback(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}) as server:
        send(dsn, db, smtp, tmp_home, server.url)
        with httpx.Client(base_url=server.url, headers=BROWSER, timeout=10) as http:
            answers = [http.get("/c/%00"), http.head("/c/%00"), http.get("/u/%00"),
                       http.post("/u/%00", data=ONE_CLICK), http.get("/c/abc%00def"), http.get("/c/%FF%FE"),
                       http.get("/u/%C0%80"), http.post("/u/%00%0A", data=ONE_CLICK), http.get("/c/" + "%00" * 3000)]
            assert [a.status_code for a in answers if not 400 <= a.status_code < 500] == []
        # a NUL in the user agent, which httpx refuses to send: written by hand
        link = f"/c/{'A' * 58}"
        reply = raw_request(server.port, f"GET {link} HTTP/1.1\r\nHost: x\r\nUser-Agent: a\x00b\r\n"
                                         "Connection: close\r\n\r\n".encode())
        assert reply.startswith(b"HTTP/1.1 4"), reply[:200]
        log = server.log
    assert "Traceback" not in log and "DataError" not in log, log
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 0


def test_control_characters_cannot_forge_a_log_line(dsn, db, tmp_home):
    with serving(dsn, tmp_home) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        for path in ("/x%0AGET%20/forged%20200%201.0ms", "/admin%0D%0AFORGED", "/u%0Bx%1B%5B31mred"):
            assert http.get(path).status_code == 404
        time.sleep(0.3)
        lines = server.lines
    assert not [line for line in lines if line.startswith(("GET /forged", "FORGED", "x"))], lines
    access = [line for line in lines if "pgdrip.serve.access" in line]
    assert any("GET /x\\x0aGET /forged 200 1.0ms 404" in line for line in access), access
    assert any("/admin\\x0d\\x0aFORGED 404" in line for line in access), access
    assert any("/u\\x0bx\\x1b[31mred 404" in line for line in access), access
    assert not any("\x1b" in line for line in lines)


REQUIRED = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def assert_protected(response: httpx.Response) -> None:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, (response.request.url, name, response.headers)
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp, (response.request.url, csp)
    assert response.headers.get("x-frame-options") == "DENY"


def test_every_page_carries_the_security_headers(dsn, db, smtp, tmp_home, world):
    env = {"PGDRIP_ADMIN_PASSWORD": PASSWORD}
    with serving(dsn, tmp_home, env) as server, \
            httpx.Client(base_url=server.url, headers=BROWSER, timeout=10) as http:
        _, unsubscribe = send(dsn, db, smtp, tmp_home, server.url)
        page = http.get(unsubscribe)
        assert page.status_code == 200 and "<style" not in page.text and "../static/public.css" in page.text
        assert http.get("/static/public.css").status_code == 200
        assert "strict-transport-security" not in page.headers  # not https
        answers = [page, http.get("/u/nothing-of-ours"), http.get("/c/nothing-of-ours"),
                   http.post(unsubscribe, data={**ONE_CLICK, "from": "page"}), http.get("/admin/no-such-page"),
                   http.post("/admin/login", data={"user": "admin", "password": "x"})]  # no login cookie: 403
        assert [a.status_code for a in answers] == [200, 404, 404, 200, 404, 403]
        for answer in answers:
            assert_protected(answer)
    with serving(dsn, tmp_home) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        off = http.get("/admin/sequences")  # the admin pages are off: 404
        assert off.status_code == 404
        assert_protected(off)


def test_signed_in_admin_pages_carry_the_security_headers_on_a_403_and_a_404(dsn, db, tmp_home):
    with serving(dsn, tmp_home, {"PGDRIP_ADMIN_PASSWORD": PASSWORD}) as server, \
            httpx.Client(base_url=server.url, headers=BROWSER, timeout=10) as http:
        sign_in(http)
        answers = [http.post("/admin/outbox/retry", data={"all": "1"}),  # no CSRF token: 403
                   http.get("/admin/contacts/999999"), http.get("/admin/sequences")]
        assert [a.status_code for a in answers] == [403, 404, 200]
        for answer in answers:
            assert_protected(answer)


def test_hsts_when_the_public_url_is_https(dsn, db, tmp_home):
    env = {"PGDRIP_PUBLIC_URL": "https://mail.example.com", "PGDRIP_SECRET": SECRET}
    with serving(dsn, tmp_home, env) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        for answer in (http.get("/healthz"), http.get("/u/nothing-of-ours"), http.get("/c/nothing-of-ours")):
            assert answer.headers["strict-transport-security"] == "max-age=31536000"
    # started without it, the public URL it serves is the one stored (published above)
    with serving(dsn, tmp_home) as server:
        assert httpx.get(f"{server.url}/healthz", timeout=10).headers["strict-transport-security"] == "max-age=31536000"


AGENTS = ["curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "Microsoft Office Protocol Discovery"]


def test_http_libraries_and_office_link_checks_are_bots_and_enroll_nobody(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}) as server, \
            httpx.Client(timeout=10) as http:
        (_, first, second), _ = send(dsn, db, smtp, tmp_home, server.url)
        for agent in AGENTS:
            assert http.get(first, headers={"user-agent": agent}).status_code == 302
        judged = db.execute("select user_agent, bot_reason from drip.clicks order by id").fetchall()
        assert [r["user_agent"] for r in judged] == AGENTS
        assert all(r["bot_reason"].startswith("known scanner: ") for r in judged), judged
        assert db.execute("select count(*) n from drip.enrollments where sequence_id = %s",
                          (world["follow"],)).fetchone()["n"] == 0
        assert http.get(second, headers=BROWSER).status_code == 302  # a person: enrolled
    assert db.execute("select count(*) n from drip.enrollments where sequence_id = %s",
                      (world["follow"],)).fetchone()["n"] == 1


# --- section 4: capacity for the public endpoints, timeouts, retries --------------------------------

def blocked_backends(db, application: str) -> int:
    return db.execute("select count(*) n from pg_stat_activity where datname = current_database() "
                      "and application_name = %s and cardinality(pg_blocking_pids(pid)) > 0",
                      (application,)).fetchone()["n"]


def test_a_slow_admin_query_cannot_starve_clicks(dsn, db, smtp, tmp_home, world):
    """Sixteen /metrics requests (the admin side's pool) wait on a lock; clicks and unsubscribes
    still answer at once, and the waiting requests end in 503 by the admin statement timeout."""
    env = {"PGDRIP_ADMIN_STATEMENT_TIMEOUT": "4", "PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}
    with serving(dsn, tmp_home, env) as server:
        (_, first, _), unsubscribe = send(dsn, db, smtp, tmp_home, server.url)
        answers: list[int] = []
        with psycopg.connect(dsn, autocommit=True) as locker:
            locker.execute("begin")
            locker.execute("lock table drip.sweeps in access exclusive mode")  # drip.status reads it

            def scrape() -> None:
                try:
                    answers.append(httpx.get(f"{server.url}/metrics", timeout=60).status_code)
                except httpx.HTTPError as exc:
                    answers.append(repr(exc))

            threads = [threading.Thread(target=scrape) for _ in range(16)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 10
            while blocked_backends(db, "pgdrip-serve-admin") < 4:
                assert time.monotonic() < deadline, server.log
                time.sleep(0.05)
            with httpx.Client(headers=BROWSER, timeout=30) as http:
                for _ in range(5):
                    started = time.monotonic()
                    assert http.get(first).status_code == 302
                    assert time.monotonic() - started < 2
                started = time.monotonic()
                assert http.get(unsubscribe).status_code == 200
                assert time.monotonic() - started < 2
            for t in threads:
                t.join(90)
            locker.execute("rollback")
        assert answers == [503] * 16, answers
        assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 200
        log = server.log
    assert "Traceback" not in log
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 5


def test_healthz_gives_up_in_the_database_within_seconds(dsn, db, tmp_home):
    """/healthz probes what every click reads, under a statement timeout of its own: with that
    table locked it answers 503 within seconds, and its statement is gone from the server."""
    with serving(dsn, tmp_home) as server, psycopg.connect(dsn, autocommit=True) as locker:
        locker.execute("begin")
        locker.execute("lock table drip.mail_settings in access exclusive mode")
        started = time.monotonic()
        r = httpx.get(f"{server.url}/healthz", timeout=30)
        assert r.status_code == 503 and time.monotonic() - started < 5, r.text
        time.sleep(0.3)
        assert blocked_backends(db, "pgdrip-serve-public") == 0  # cancelled by the server, not abandoned
        locker.execute("rollback")
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        assert "healthz: database unavailable" in server.log and "statement timeout" in server.log


def test_a_click_or_unsubscribe_whose_answer_was_lost_is_recorded_once(dsn, db, smtp, tmp_home, world):
    """The database commits a click, then the connection dies before `pgdrip serve` hears back
    (a proxy loses the answer). serve asks again on another connection, with the same request
    id: the reader is redirected, and the click is recorded once."""
    proxy = PgProxy(dsn)
    try:
        with serving(proxy.dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}) as server, \
                httpx.Client(headers=BROWSER, timeout=30) as http:
            (_, first, _), unsubscribe = send(dsn, db, smtp, tmp_home, server.url)
            proxy.drop_answer_to(b"record_click")
            r = http.get(first)
            assert r.status_code == 302 and r.headers["location"] == "https://example.com/a"
            assert proxy.dropped == 1 and proxy.seen[b"record_click"] == 2, proxy.seen  # lost once, asked again
            proxy.drop_answer_to(b"unsubscribe_by_token")
            assert http.post(unsubscribe, data=ONE_CLICK).status_code == 200
            assert proxy.dropped == 2 and proxy.seen[b"unsubscribe_by_token"] == 2
    finally:
        proxy.close()
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 1
    assert db.execute("select count(*) n from drip.link_clicks").fetchone()["n"] == 1
    assert db.execute("select clicks from drip.step_report where step_id = %s",
                      (world["step"],)).fetchone()["clicks"] == 1
    assert db.execute("select count(*) n from drip.unsubscribes").fetchone()["n"] == 1
