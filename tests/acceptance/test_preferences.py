"""Behaviour 23 through a real runner, SMTP server and `pgdrip serve`: a topic's mail carries its
List-Id, its one-click POST leaves that topic only, and its GET page (the preference page) names
the topic and lets the contact leave it, another topic, or all mail; receipts carry no
List-Unsubscribe. Bad input to the page gets 4xx and writes nothing."""

import re

import httpx
import pytest

from tests.acceptance.cli import pgdrip
from tests.acceptance.serve_process import serving
from tests.helpers import add_contact, add_sequence, add_tag, tag

SECRET = "a-long-random-secret-for-tests"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def topics(db):
    tips = db.execute("insert into drip.topics (name, description) values ('Product tips', 'A tip a week') "
                      "returning id").fetchone()["id"]
    events = db.execute("insert into drip.topics (name) values ('Events') returning id").fetchone()["id"]
    for name, topic in (("Tips", tips), ("Invitations", events)):
        seq = add_sequence(db, "tag_added", "news", steps=[(0, f"{name} mail", "<p>hello</p>")], name=name)
        db.execute("update drip.sequences set topic_id = %s where id = %s", (topic, seq))
    receipts = add_sequence(db, "tag_added", "news", steps=[(0, "Receipt", "<p>r</p>")], name="Receipts")
    db.execute("update drip.sequences set message_class = 'transactional' where id = %s", (receipts,))
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    return {"tips": tips, "events": events, "ada": ada}


def send(dsn, smtp, home, base: str) -> dict:
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=home,
               env={"PGDRIP_PUBLIC_URL": base, "PGDRIP_SECRET": SECRET, "PGDRIP_FROM": "news@example.com"})
    assert r.returncode == 0, r.stderr
    return {m["Subject"]: m for m in smtp.handler.messages}


def unsubscribe_url(msg) -> str:
    return re.search(r"<(http[^>]+/u/[^>]+)>", msg["List-Unsubscribe"]).group(1)


def test_topic_mail_lists_and_leaves_its_topic_and_receipts_carry_no_unsubscribe(dsn, db, smtp, tmp_home, topics):
    with serving(dsn, tmp_home) as server, httpx.Client(timeout=10) as http:
        mail = send(dsn, smtp, tmp_home, server.url)
        assert mail["Tips mail"]["List-Id"] == f"<topic-{topics['tips']}.example.com>"
        assert mail["Invitations mail"]["List-Id"] == f"<topic-{topics['events']}.example.com>"
        assert mail["Receipt"]["List-Unsubscribe"] is None
        receipt = next(part for part in mail["Receipt"].walk() if part.get_content_type() == "text/html")
        assert "nsubscribe" not in receipt.get_payload(decode=True).decode()
        # the page names the topic and offers it, all mail, and the other topics
        url = unsubscribe_url(mail["Tips mail"])
        page = http.get(url)
        assert page.status_code == 200
        assert "Stop emails about Product tips" in page.text and "Stop all emails" in page.text
        assert "Leave Events" in page.text
        assert db.execute("select count(*) n from drip.topic_unsubscribes").fetchone()["n"] == 0  # GET writes nothing
        # one-click POST: that topic only, repeatably
        for _ in range(2):
            r = http.post(url, data=ONE_CLICK)
            assert r.status_code == 200, r.text
        left = db.execute("select topic_id, via from drip.topic_unsubscribes").fetchall()
        assert [(x["topic_id"], x["via"]) for x in left] == [(topics["tips"], "one-click")]
        assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
        # the page again: the topic is left; leave another topic from it, then all mail
        page = http.get(url)
        assert "you left this topic" in page.text
        r = http.post(url, data={**ONE_CLICK, "from": "page", "scope": f"topic:{topics['events']}"})
        assert r.status_code == 200 and "Your choice is saved" in r.text
        assert db.execute("select count(*) n from drip.topic_unsubscribes").fetchone()["n"] == 2
        r = http.post(url, data={**ONE_CLICK, "from": "page", "scope": "all"})
        assert r.status_code == 200 and "You are unsubscribed" in r.text
        assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is not None


def test_the_preference_page_refuses_bad_input_and_writes_nothing(dsn, db, smtp, tmp_home, topics):
    with serving(dsn, tmp_home) as server, httpx.Client(timeout=10) as http:
        mail = send(dsn, smtp, tmp_home, server.url)
        url = unsubscribe_url(mail["Tips mail"])
        for scope in ("nope", "topic:abc", "topic:" + "9" * 40, "all\x00", "x" * 5000):
            r = http.post(url, data={**ONE_CLICK, "from": "page", "scope": scope})
            assert 400 <= r.status_code < 500, (scope, r.status_code)
        r = http.post(url, data={**ONE_CLICK, "from": "page", "scope": "topic:987654"})  # no such topic
        assert r.status_code == 404
        forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
        assert http.get(forged).status_code == 404
        assert http.post(forged, data=ONE_CLICK).status_code == 404
        assert db.execute("select (select count(*) from drip.topic_unsubscribes) + (select count(*) "
                          "from drip.contacts where unsubscribed_at is not null) n").fetchone()["n"] == 0
        assert "Traceback" not in server.log
