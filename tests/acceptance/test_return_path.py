"""The return path end to end: the real `pgdrip run` sends to aiosmtpd, the real `pgdrip serve`
answers the links found in the received mail; the rows and the triggered enrollments are
checked in the database."""

import re
import shutil
import subprocess
import time
from email.message import Message

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.acceptance.cli import pgdrip
from tests.acceptance.serve_process import serving
from tests.helpers import add_contact, add_sequence, add_tag, not_on_citus, tag, with_dbname

SECRET = "a-long-random-secret-for-tests"
BODY = ('<p>Hi {{FirstName}}, <a href="https://example.com/a?x=1&amp;e={{Email}}">read this</a>, '
        '<a href="https://example.com/b">or that</a>, <a href="mailto:help@example.com">write</a>, '
        '<a data-pgdrip-notrack href="https://example.com/private">private</a>, <a href="#top">top</a>.</p>')
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"}


def part(msg: Message, subtype: str) -> str:
    for p in msg.walk():
        if p.get_content_type() == f"text/{subtype}":
            return p.get_payload(decode=True).decode()
    raise AssertionError(f"no text/{subtype} part")


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


@pytest.fixture
def world(db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "Hello {{FirstName}}", BODY)], name="News")
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    follow_up = add_sequence(db, "after_first_click", f"step:{step}", steps=[(24, "Glad you looked", "<p>:)</p>")],
                             name="Follow-up")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    return {"step": step, "follow_up": follow_up, "ada": ada}


def send(dsn, smtp, home, server) -> tuple[Message, dict]:
    env = {"PGDRIP_PUBLIC_URL": server.url, "PGDRIP_SECRET": SECRET, "PGDRIP_FROM": "News <news@example.com>",
           "PGDRIP_UNSUBSCRIBE_MAILTO": "unsubscribe@example.com"}
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=home, env=env)
    assert r.returncode == 0, r.stderr
    [msg] = smtp.handler.messages
    return msg, env


def test_links_clicks_and_one_click_unsubscribe(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}) as server:
        msg, _ = send(dsn, smtp, tmp_home, server)
        html, text = part(msg, "html"), part(msg, "plain")
        links = hrefs(html)
        tracked = [h for h in links if h.startswith(f"{server.url}/c/")]
        # the honeypot first, then the two trackable links; mailto, the opted-out link and the anchor untouched
        assert len(tracked) == 3 and links[0] == tracked[0]
        assert "mailto:help@example.com" in links and "https://example.com/private" in links and "#top" in links
        assert "https://example.com/a" not in html and "https://example.com/b" not in html
        honeypot, first, second = tracked
        assert f"read this ({first})" in text and f"or that ({second})" in text  # the same tracked links
        unsubscribe = next(h for h in links if h.startswith(f"{server.url}/u/"))
        assert f"Unsubscribe: {unsubscribe}" in text
        assert msg["List-Unsubscribe"] == f"<{unsubscribe}>, <mailto:unsubscribe@example.com?subject=unsubscribe>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        news = db.execute("select id from drip.sequences where name = 'News'").fetchone()["id"]
        assert msg["List-Id"] == f"<sequence-{news}.example.com>"
        assert msg["Message-ID"].endswith("@example.com>")

        with httpx.Client(headers=BROWSER, follow_redirects=False, timeout=10) as http:
            r = http.get(first)
            assert r.status_code == 302 and r.headers["location"] == "https://example.com/a?x=1&e=ada@example.com"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert http.head(second).status_code == 302  # answered, but a HEAD is a bot
            forged = first[:-10] + ("B" if first[-10] != "B" else "C") + first[-9:]
            assert http.get(forged).status_code == 404
            assert http.get(first[:-5]).status_code == 404  # truncated
            assert http.get(f"{server.url}/c/" + "A" * 10_000).status_code in (404, 414)
            page = http.get(unsubscribe)
            assert page.status_code == 200 and "<form" in page.text and "a•••@example.com" in page.text
            assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
            assert http.post(unsubscribe).status_code == 415  # no form at all
            assert http.post(unsubscribe, content=b"hello", headers={"content-type": "text/plain"}).status_code == 415
            assert http.post(unsubscribe, data={"List-Unsubscribe": "Yes"}).status_code == 400
            assert http.post(unsubscribe, content=b"x" * 100_000,
                             headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
            assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
            for _ in range(2):  # RFC 8058: repeatable, no redirect, no cookie
                done = http.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
                assert done.status_code == 200 and "set-cookie" not in done.headers
            forged_unsub = unsubscribe[:-10] + ("B" if unsubscribe[-10] != "B" else "C") + unsubscribe[-9:]
            assert http.post(forged_unsub, data={"List-Unsubscribe": "One-Click"}).status_code == 404
            assert http.get(honeypot).status_code == 204
    log = server.log  # all of it: the server has stopped
    clicks = db.execute("select link_no, method, bot_reason from drip.clicks order by id").fetchall()
    assert clicks == [{"link_no": 1, "method": "GET", "bot_reason": None},
                      {"link_no": 2, "method": "HEAD", "bot_reason": "HEAD request"},
                      {"link_no": 0, "method": "GET", "bot_reason": "honeypot link"}]
    # the person's first click went into link_clicks and started the follow-up sequence
    assert db.execute("select contact_id, mailing_id, step_id, url from drip.link_clicks").fetchall() == [
        {"contact_id": world["ada"], "mailing_id": world["step"], "step_id": world["step"],
         "url": "https://example.com/a?x=1&e=ada@example.com"}]
    follow = db.execute("select status from drip.enrollments where sequence_id = %s", (world["follow_up"],)
                        ).fetchall()
    assert follow == [{"status": "cancelled"}]  # enrolled by the click, then cancelled by the unsubscribe
    assert db.execute("select count(*) n from drip.unsubscribes where step_id = %s", (world["step"],)
                      ).fetchone()["n"] == 1
    report = db.execute("select clicks, bot_clicks, unique_clickers, unsubscribes, sent from drip.step_report "
                        "where step_id = %s", (world["step"],)).fetchone()
    assert report == {"clicks": 1, "bot_clicks": 2, "unique_clickers": 1, "unsubscribes": 1, "sent": 1}
    # the access log: one line per request (6 to /c/, 8 to /u/ above), naming no token
    access = [line for line in log.splitlines() if "pgdrip.serve.access: " in line]
    assert all(re.search(r"pgdrip\.serve\.access: (GET|HEAD|POST) /\S* \d{3} \d+\.\dms$", line) for line in access)
    assert [line.split(": ", 1)[1].rsplit(" ", 1)[0] for line in access if " /c/" in line or " /u/" in line] == [
        "GET /c/… 302", "HEAD /c/… 302", "GET /c/… 404", "GET /c/… 404", "GET /c/… 404", "GET /u/… 200",
        "POST /u/… 415", "POST /u/… 415", "POST /u/… 400", "POST /u/… 413", "POST /u/… 200", "POST /u/… 200",
        "POST /u/… 404", "GET /c/… 204"]
    for token_url in (first, second, unsubscribe):
        assert token_url.rsplit("/", 1)[1] not in log


def test_a_forged_or_stale_token_writes_nothing(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": ""}) as server:
        msg, _ = send(dsn, smtp, tmp_home, server)
        links = [h for h in hrefs(part(msg, "html")) if "/c/" in h or "/u/" in h]
        db.execute("delete from drip.contacts where id = %s", (world["ada"],))  # a contact who is gone
        with httpx.Client(headers=BROWSER, timeout=10) as http:
            assert {http.get(link).status_code for link in links} == {404}
            assert {http.post(link, data={"List-Unsubscribe": "One-Click"}).status_code
                    for link in links if "/u/" in link} == {404}
    assert db.execute("select (select count(*) from drip.clicks) + (select count(*) from drip.link_clicks) "
                      "+ (select count(*) from drip.unsubscribes) n").fetchone()["n"] == 0


def test_serve_refuses_a_public_url_that_is_not_https_or_local(dsn, tmp_home):
    r = pgdrip("serve", dsn=dsn, home=tmp_home, timeout=20,
               env={"PGDRIP_PUBLIC_URL": "http://mail.example.com", "PGDRIP_SECRET": SECRET})
    assert r.returncode != 0 and "must be https" in r.stderr and "Traceback" not in r.stderr
    r = pgdrip("serve", dsn=dsn, home=tmp_home, timeout=20, env={"PGDRIP_PUBLIC_URL": "https://mail.example.com"})
    assert r.returncode != 0 and "go together" in r.stderr
    assert "Example:" in pgdrip("serve", "--help").stdout


def test_the_runner_refuses_a_public_url_without_its_secret(dsn, db, tmp_home):
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home, env={"PGDRIP_PUBLIC_URL": "https://mail.example.com"})
    assert r.returncode != 0 and "secret" in r.stderr and "Traceback" not in r.stderr
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home,
               env={"PGDRIP_PUBLIC_URL": "http://mail.example.com", "PGDRIP_SECRET": SECRET})
    assert r.returncode != 0 and "public_url" in r.stderr


@not_on_citus(reason="the database is closed on the coordinator only; its workers would still answer")
def test_healthz_says_when_the_database_is_gone(dsn, tmp_home, server_dsn):
    """The database really goes away (it refuses connections and every session is ended): 503,
    then 200 again once it is back, without restarting `pgdrip serve`."""
    name = conninfo_to_dict(dsn)["dbname"]
    with serving(dsn, tmp_home) as server, psycopg.connect(with_dbname(server_dsn, "postgres"),
                                                             autocommit=True) as admin:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        try:
            admin.execute(f'alter database "{name}" with allow_connections false')
            ended = admin.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                  "where datname = %s", (name,)).fetchone()[0]
            assert ended >= 1  # the pool's connection(s)
            gone = httpx.get(f"{server.url}/healthz", timeout=15)
            assert gone.status_code == 503 and gone.text == "database unavailable\n"
        finally:
            admin.execute(f'alter database "{name}" with allow_connections true')
        deadline = time.monotonic() + 15
        while httpx.get(f"{server.url}/healthz", timeout=15).status_code != 200:
            assert time.monotonic() < deadline, server.log
            time.sleep(0.2)
    assert "healthz: database unavailable" in server.log


def spamassassin(raw: bytes) -> tuple[float, list[str]]:
    """SpamAssassin's local rules only (-L, no network): the score and the rules hit."""
    out = subprocess.run(["spamassassin", "-t", "-L", "--configpath=/usr/share/spamassassin"], input=raw,
                         capture_output=True, timeout=120).stdout.decode()
    status = " ".join(re.search(r"^X-Spam-Status: (.*?)\n(?!\s)", out, re.M | re.S).group(1).split())
    score = float(re.search(r"score=(-?[0-9.]+)", status).group(1))
    rules = re.search(r"tests=(\S*)", status).group(1)
    return score, [r for r in rules.split(",") if r and r != "none"]


@pytest.mark.skipif(shutil.which("spamassassin") is None,
                    reason="spamassassin is not installed (apt-get install spamassassin; CI installs it)")
@pytest.mark.parametrize("setup", ["return path", "own unsubscribe URL"])
def test_a_receiving_filter_finds_nothing_to_hold_against_the_mail(dsn, db, smtp, tmp_home, world, setup):
    env = ({"PGDRIP_PUBLIC_URL": "https://mail.example.com", "PGDRIP_SECRET": SECRET} if setup == "return path" else
           {"PGDRIP_UNSUBSCRIBE_URL": "https://example.com/u?c={contact_id}&t={token}",
            "PGDRIP_UNSUBSCRIBE_SECRET": SECRET})
    db.execute("update drip.sequence_steps set html_body = '<p>Hi {{FirstName}}, short and sweet.</p>'")
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home,
               env={**env, "PGDRIP_FROM": "News <news@example.com>"})
    assert r.returncode == 0, r.stderr
    score, rules = spamassassin(smtp.handler.raw[0])
    assert [rule for rule in rules if rule.startswith(("LIST_", "MSGID_", "MIME_"))] == [], rules
    assert score <= 0.5, (score, rules)


def test_dkim_signs_both_list_unsubscribe_headers_and_verifies(dsn, db, smtp, tmp_home, tmp_path, world):
    import base64

    import dkim

    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public_der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"], check=True,
                                capture_output=True).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public_der)
    env = {"PGDRIP_PUBLIC_URL": "https://mail.example.com", "PGDRIP_SECRET": SECRET,
           "PGDRIP_FROM": "News <news@example.com>", "PGDRIP_DKIM_KEY_FILE": str(key),
           "PGDRIP_DKIM_SELECTOR": "drip", "PGDRIP_DKIM_DOMAIN": "example.com"}
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home, env=env)
    assert r.returncode == 0, r.stderr
    raw = smtp.handler.raw[0]
    asked: list[bytes] = []

    def dns(name: bytes, timeout: float = 5) -> bytes:  # the DNS stub: the selector's TXT record
        asked.append(name)
        return record if name == b"drip._domainkey.example.com." else b""

    assert dkim.verify(raw, dnsfunc=dns)
    assert asked == [b"drip._domainkey.example.com."]
    signature = " ".join(smtp.handler.messages[0]["DKIM-Signature"].split())
    signed = re.search(r"h=([^;]*)", signature).group(1).replace(" ", "").lower().split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "list-id", "from", "subject"} <= set(signed)
    tampered = raw.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                           b"List-Unsubscribe-Post: List-Unsubscribe=Two-Clicks")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_a_dkim_key_that_cannot_be_read_is_refused_at_start(dsn, db, tmp_home, tmp_path):
    r = pgdrip("run", "--once", dsn=dsn, home=tmp_home,
               env={"PGDRIP_DKIM_KEY_FILE": str(tmp_path / "missing.pem"), "PGDRIP_DKIM_SELECTOR": "s",
                    "PGDRIP_DKIM_DOMAIN": "example.com"})
    assert r.returncode != 0 and "PGDRIP_DKIM_KEY_FILE" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("trusted,expected", [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.7")])
def test_x_forwarded_for_is_believed_only_from_trusted_proxies(dsn, db, smtp, tmp_home, world, trusted, expected):
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": "", "PGDRIP_SECRET": "",
                                 "PGDRIP_TRUSTED_PROXIES": trusted}) as server:
        msg, _ = send(dsn, smtp, tmp_home, server)
        link = [h for h in hrefs(part(msg, "html")) if "/c/" in h][1]
        db.execute("update drip.outbox set sent_at = now() - interval '1 hour'")
        r = httpx.get(link, headers={**BROWSER, "X-Forwarded-For": "203.0.113.7"})
        assert r.status_code == 302
    assert [str(r["ip"]) for r in db.execute("select ip from drip.clicks")] == [expected]
