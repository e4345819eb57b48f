"""The preference page (behaviour 23) in Chromium: a topic's unsubscribe link opens a page that
names the topic, leaves it with one button, lists the contact's other topics, and can still stop
all mail. Nothing is written by opening the page."""

from tests.acceptance.conftest import smtp  # noqa: F401  (the real SMTP server fixture)
from tests.acceptance.test_preferences import send, topics, unsubscribe_url  # noqa: F401
from tests.browser.conftest import screenshot


def count(db, sql: str) -> int:
    return db.execute(sql).fetchone()["n"]


def test_a_topic_link_opens_a_page_that_leaves_the_topic_then_all_mail(db, dsn, smtp, tmp_home, topics,  # noqa: F811
                                                                       page, server, tmp_path):
    mail = send(dsn, smtp, tmp_home, server.url)
    url = unsubscribe_url(mail["Tips mail"])
    page.goto(url)
    assert page.get_by_role("heading", name="Stop emails about Product tips?").is_visible()
    assert page.get_by_text("A tip a week").is_visible()
    screenshot(page, "preferences", tmp_path)
    assert count(db, "select count(*) n from drip.topic_unsubscribes") == 0

    page.get_by_role("button", name="Stop emails about Product tips").click()
    assert page.get_by_role("heading", name="Your choice is saved").is_visible()
    assert page.get_by_text("Product tips: left").is_visible()
    assert page.get_by_text("Events: subscribed").is_visible()
    assert count(db, f"select count(*) n from drip.topic_unsubscribes where topic_id = {topics['tips']}") == 1

    page.goto(url)  # the link again: the topic shows as left; the other topic can be left from here
    assert page.get_by_text("(you left this topic)").is_visible()
    page.get_by_role("button", name="Leave Events").click()
    assert page.get_by_text("Events: left").is_visible()

    page.goto(url)
    page.get_by_role("button", name="Stop all emails").click()
    assert page.get_by_role("heading", name="You are unsubscribed").is_visible()
    assert count(db, "select count(*) n from drip.contacts where unsubscribed_at is not null") == 1
    assert "Traceback" not in server.log
