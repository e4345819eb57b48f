"""A delivered link keeps working (issue 18, section 1), end to end: the real `pgdrip run` sends
to aiosmtpd, the real `pgdrip serve` answers the links found in the mail received, and other
real processes come and go in between: a runner given no settings, a rotated secret, a prune,
a preview."""

import re
import time
from email.message import Message
from pathlib import Path

import httpx
import pytest

from tests.acceptance.cli import pgdrip
from tests.acceptance.serve_process import serving
from tests.helpers import add_contact, add_sequence, add_tag, tag

SECRET = "the-first-secret-of-these-links"
NEW_SECRET = "the-second-secret-of-these-links"
BODY = '<p>Hi {{FirstName}}, <a href="https://example.com/a">read this</a> or <a href="https://example.com/b">that</a>.</p>'
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0"}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def html(msg: Message) -> str:
    for p in msg.walk():
        if p.get_content_type() == "text/html":
            return p.get_payload(decode=True).decode()
    raise AssertionError("no text/html part")


def links(msg: Message, base: str) -> tuple[list[str], str]:
    """(the tracked links a person sees, in order; the unsubscribe link) of a message."""
    hrefs = re.findall(r'href="([^"]*)"', html(msg))
    tracked = [h for h in hrefs if h.startswith(f"{base}/c/")][1:]  # the first is the honeypot
    return tracked, next(h for h in hrefs if h.startswith(f"{base}/u/"))


@pytest.fixture
def world(db, tmp_path):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "Hello {{FirstName}}", BODY)], name="News")
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    follow = add_sequence(db, "after_first_click", f"step:{step}", steps=[(24, "Glad", "<p>:)</p>")], name="Follow")
    news = add_tag(db, "news")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, news)
    header, footer = tmp_path / "header.html", tmp_path / "footer.html"
    header.write_text("<p>ACME NEWS</p>")
    footer.write_text("<p>ACME Inc, 1 Road, Town</p>")
    return {"step": step, "follow": follow, "news": news, "ada": ada, "header": header, "footer": footer}


def full_env(base: str, world: dict, secret: str = SECRET) -> dict:
    return {"PGDRIP_PUBLIC_URL": base, "PGDRIP_SECRET": secret, "PGDRIP_FROM": "News <news@example.com>",
            "PGDRIP_BRAND_HEADER": str(world["header"]), "PGDRIP_BRAND_FOOTER": str(world["footer"]),
            "PGDRIP_UNSUBSCRIBE_MAILTO": "unsubscribe@example.com"}


def run_once(dsn, smtp, home: Path, env: dict, *args: str) -> None:
    r = pgdrip("run", "--once", "--smtp", smtp.url, *args, dsn=dsn, home=home, env=env)
    assert r.returncode == 0, r.stderr


def add_reader(db, world: dict, email: str) -> int:
    c = add_contact(db, email, email.split("@")[0].title())
    tag(db, c, world["news"])
    return c


def test_a_runner_given_no_settings_keeps_every_link_and_setting(dsn, db, smtp, tmp_home, world):
    """A runner (also --drain-only) started without PGDRIP_PUBLIC_URL, PGDRIP_SECRET or branding
    changes nothing published: the mail already sent keeps working links, and later mail,
    whoever dispatches it, keeps its branding, tracking and unsubscribe link."""
    with serving(dsn, tmp_home) as server, httpx.Client(headers=BROWSER, timeout=10) as http:
        run_once(dsn, smtp, tmp_home, full_env(server.url, world))
        [first] = smtp.handler.messages
        (link, _), unsubscribe = links(first, server.url)
        run_once(dsn, smtp, tmp_home, {})
        run_once(dsn, smtp, tmp_home, {}, "--drain-only")
        r = http.get(link)
        assert r.status_code == 302 and r.headers["location"] == "https://example.com/a"
        assert http.get(unsubscribe).status_code == 200
        # later mail, queued by `pgdrip dispatch` (as pg_cron would) and sent by a runner given nothing
        add_reader(db, world, "bob@example.com")
        assert pgdrip("dispatch", dsn=dsn).returncode == 0
        run_once(dsn, smtp, tmp_home, {}, "--drain-only")
        second = smtp.handler.messages[1]
        body = html(second)
        assert "ACME NEWS" in body and "ACME Inc, 1 Road, Town" in body
        (bob_link, _), bob_unsubscribe = links(second, server.url)
        mailto = "<mailto:unsubscribe@example.com?subject=unsubscribe>"
        assert second["List-Unsubscribe"] == f"<{bob_unsubscribe}>, {mailto}"
        assert second["Message-ID"].endswith("@example.com>")
        assert http.get(bob_link).status_code == 302
        assert http.post(unsubscribe, data=ONE_CLICK).status_code == 200
    assert db.execute("select unsubscribed_at is not null u from drip.contacts where id = %s",
                      (world["ada"],)).fetchone()["u"]


def test_demo_leaves_a_real_return_path_alone(dsn, db, smtp, tmp_home, world):
    run_once(dsn, smtp, tmp_home, full_env("https://mail.example.com", world))
    before = db.execute("select * from drip.mail_settings").fetchone()
    r = pgdrip("demo", dsn=dsn, home=tmp_home, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "https://mail.example.com" in r.stdout
    after = db.execute("select * from drip.mail_settings").fetchone()
    assert {k: after[k] for k in after if not k.startswith("published")} == \
        {k: before[k] for k in before if not k.startswith("published")}


def test_a_setting_is_cleared_only_when_asked(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home) as server, httpx.Client(headers=BROWSER, timeout=10) as http:
        run_once(dsn, smtp, tmp_home, full_env(server.url, world))
        (link, _), _ = links(smtp.handler.messages[0], server.url)
        r = pgdrip("mail-settings", "--clear", "brand_footer", dsn=dsn)
        assert r.returncode == 0, r.stderr
        assert "brand_footer: 0 characters" in r.stdout and "brand_header: 16 characters" in r.stdout
        assert SECRET not in r.stdout
        add_reader(db, world, "bob@example.com")
        run_once(dsn, smtp, tmp_home, {})
        body = html(smtp.handler.messages[1])
        assert "ACME NEWS" in body and "ACME Inc" not in body and f"{server.url}/c/" in body
        r = pgdrip("mail-settings", "--clear", "public_url", dsn=dsn)
        assert r.returncode == 0 and "public_url: -" in r.stdout, r.stderr
        add_reader(db, world, "cy@example.com")
        run_once(dsn, smtp, tmp_home, {})
        third = smtp.handler.messages[2]
        assert "/c/" not in html(third) and third["List-Unsubscribe"] is None  # no longer tracked...
        assert http.get(link).status_code == 302  # ...and what was sent still works


def test_rotating_the_secret_keeps_delivered_links_working(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home, {"PGDRIP_SECRET": "", "PGDRIP_PUBLIC_URL": ""}) as server:
        base = server.url
        run_once(dsn, smtp, tmp_home, full_env(base, world))
    (old_link, _), old_unsubscribe = links(smtp.handler.messages[0], base)
    forged = old_link[:-10] + ("B" if old_link[-10] != "B" else "C") + old_link[-9:]

    # rotated without listing the old secret: the secret replaced keeps verifying
    with serving(dsn, tmp_home, {"PGDRIP_PUBLIC_URL": base, "PGDRIP_SECRET": NEW_SECRET}) as server, \
            httpx.Client(headers=BROWSER, timeout=10) as http:
        assert server.url != base  # another port: the links name the public URL, the test asks this server
        add_reader(db, world, "bob@example.com")
        run_once(dsn, smtp, tmp_home, full_env(base, world, NEW_SECRET))
        (new_link, _), _ = links(smtp.handler.messages[1], base)
        local = lambda url: url.replace(base, server.url)  # noqa: E731
        assert http.get(local(old_link)).status_code == 302
        assert http.get(local(new_link)).status_code == 302
        assert http.get(local(forged)).status_code == 404
    # listed in PGDRIP_OLD_SECRETS, on serve and runner alike
    rotated = {"PGDRIP_PUBLIC_URL": base, "PGDRIP_SECRET": NEW_SECRET, "PGDRIP_OLD_SECRETS": SECRET}
    run_once(dsn, smtp, tmp_home, {**full_env(base, world, NEW_SECRET), **rotated})
    with serving(dsn, tmp_home, rotated) as server, httpx.Client(headers=BROWSER, timeout=10) as http:
        local = lambda url: url.replace(base, server.url)  # noqa: E731
        assert http.get(local(old_link)).status_code == 302
        assert http.post(local(old_unsubscribe), data=ONE_CLICK).status_code == 200
        assert db.execute("select unsubscribed_at is not null u from drip.contacts where id = %s",
                          (world["ada"],)).fetchone()["u"]
        # the operator forgets the old secret (it leaked, say): its links stop, the new ones go on
        r = pgdrip("mail-settings", "--forget-old-secrets", dsn=dsn)
        assert r.returncode == 0 and "forgot 1 older secret(s)" in r.stderr, r.stderr
        assert http.get(local(old_link)).status_code == 404
        assert http.get(local(new_link)).status_code == 302
    clicks = db.execute("select link_no, bot_reason from drip.clicks order by id").fetchall()
    assert clicks == [{"link_no": 1, "bot_reason": None}] * 4


def test_a_link_of_pruned_mail_still_redirects_and_unsubscribes(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home) as server, httpx.Client(headers=BROWSER, timeout=10) as http:
        run_once(dsn, smtp, tmp_home, full_env(server.url, world))
        (first, second), unsubscribe = links(smtp.handler.messages[0], server.url)
        db.execute("update drip.outbox set created_at = now() - interval '200 days', "
                   "sent_at = now() - interval '200 days'")
        db.execute("update drip.enrollments set completed_at = now() - interval '200 days'")
        r = pgdrip("prune", "--older-than", "180d", dsn=dsn)
        assert r.returncode == 0, r.stderr
        assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 0
        r = http.get(second)
        assert r.status_code == 302 and r.headers["location"] == "https://example.com/b"
        assert http.get(first, headers={"user-agent": "curl/8.5.0"}).status_code == 302
        assert http.get(unsubscribe).status_code == 200
        assert http.post(unsubscribe, data=ONE_CLICK).status_code == 200
    assert db.execute("select link_no, bot_reason from drip.clicks order by id").fetchall() == [
        {"link_no": 2, "bot_reason": None}, {"link_no": 1, "bot_reason": "known scanner: ^curl/"}]
    # the person's click is recorded as before: first click, follow-up started (then cancelled
    # by the unsubscribe), step report
    assert db.execute("select url from drip.link_clicks").fetchall() == [{"url": "https://example.com/b"}]
    assert db.execute("select status from drip.enrollments where sequence_id = %s",
                      (world["follow"],)).fetchall() == [{"status": "cancelled"}]
    report = db.execute("select sent, clicks, bot_clicks, unsubscribes from drip.step_report where step_id = %s",
                        (world["step"],)).fetchone()
    assert report == {"sent": 1, "clicks": 1, "bot_clicks": 1, "unsubscribes": 1}


def test_a_forwarded_preview_unsubscribes_nobody(dsn, db, smtp, tmp_home, world):
    with serving(dsn, tmp_home) as server, httpx.Client(headers=BROWSER, timeout=10) as http:
        run_once(dsn, smtp, tmp_home, full_env(server.url, world))
        r = pgdrip("preview", str(world["step"]), "--contact", "ada@example.com", dsn=dsn)
        assert r.returncode == 0, r.stderr
        shown = re.findall(rf"{re.escape(server.url)}/[cu]/[^\s\"<>)]+", r.stdout)
        assert {u.rsplit("/", 2)[1] for u in shown} == {"c", "u"}
        assert "List-Unsubscribe: <" + f"{server.url}/u/preview>" in r.stdout
        for url in set(shown):
            assert url.endswith("/preview"), url
            assert http.get(url).status_code == 404
            if "/u/" in url:
                assert http.post(url, data=ONE_CLICK).status_code == 404
        time.sleep(0.2)
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 0
