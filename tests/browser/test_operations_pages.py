"""Enrollments, contacts, the outbox and the forecast in Chromium; each test checks the database."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tests.helpers import add_contact, add_sequence, add_tag, tag


def _news_with(db, emails: list[str]) -> tuple[int, dict[str, int]]:
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (24, "Two {{FirstName}}", "<p>2</p>")],
                       name="News")
    news = add_tag(db, "news")
    ids = {}
    for email in emails:
        ids[email] = add_contact(db, email, email.split("@")[0].title())
        tag(db, ids[email], news)
    return seq, ids


def test_enrollments_show_step_and_due_time_in_the_viewers_zone_and_cancel_one(page, db, tmp_path):
    seq, ids = _news_with(db, ["ada@example.com", "grace@example.com", "linus@example.com"])
    db.execute("call drip.dispatch_due()")  # everyone got step 1; step 2 is due in 24 hours
    due = db.execute("select next_step_due_at from drip.enrollments where contact_id = %s",
                     (ids["ada@example.com"],)).fetchone()["next_step_due_at"]
    sign_in(page, f"/admin/sequences/{seq}/enrollments?tz=Asia/Tokyo")
    row = page.locator("tbody tr", has_text="ada@example.com")
    expect(row).to_contain_text("2: Two {{FirstName}}")
    from zoneinfo import ZoneInfo
    expect(row).to_contain_text(f"{due.astimezone(ZoneInfo('Asia/Tokyo')):%Y-%m-%d %H:%M} JST")
    expect(page.get_by_text("Times in Asia/Tokyo.")).to_be_visible()
    screenshot(page, "enrollments", tmp_path)
    page.get_by_role("link", name="Cancel the enrollment of grace@example.com").click()
    # asked first, as for many (issue 18): nothing is cancelled until the second click
    expect(page.get_by_role("heading")).to_contain_text("Cancel the enrollment of grace@example.com in “News”?")
    assert db.execute("select count(*) as n from drip.enrollments where status = 'cancelled'").fetchone()["n"] == 0
    page.get_by_role("button", name="Cancel this enrollment").click()
    expect(page.get_by_role("status")).to_contain_text("is cancelled")
    expect(page).to_have_url(re.compile(f"/admin/sequences/{seq}/enrollments"))
    rows = {r["contact_id"]: r["status"] for r in db.execute("select contact_id, status from drip.enrollments")}
    assert rows == {ids["ada@example.com"]: "active", ids["grace@example.com"]: "cancelled",
                    ids["linus@example.com"]: "active"}
    # the zone chosen is remembered for the next page
    page.goto(f"/admin/sequences/{seq}/enrollments")
    expect(page.get_by_text("Times in Asia/Tokyo.")).to_be_visible()


def test_cancel_every_enrollment_the_filter_matches_after_a_confirmation_with_the_count(page, db):
    seq, ids = _news_with(db, ["ada@example.com", "grace@example.com", "linus@example.com"])
    db.execute("update drip.enrollments set status = 'completed', next_step_due_at = null, completed_at = now() "
               "where contact_id = %s", (ids["linus@example.com"],))
    sign_in(page, f"/admin/sequences/{seq}/enrollments")
    page.get_by_label("Email (exact)").fill("GRACE@example.com")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Cancel all matching…").click()
    expect(page.locator("#cancel-count")).to_have_text("1")
    page.get_by_role("link", name="Keep them").click()
    assert db.execute("select count(*) as n from drip.enrollments where status = 'cancelled'").fetchone()["n"] == 0

    page.get_by_label("Email (exact)").fill("")
    page.get_by_label("Status").select_option("active")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Cancel all matching…").click()
    expect(page.locator("#cancel-count")).to_have_text("2")
    page.get_by_role("button", name="Cancel 2 enrollment(s)").click()
    expect(page.get_by_role("status")).to_contain_text("2 enrollment(s) cancelled")
    rows = {r["contact_id"]: r["status"] for r in db.execute("select contact_id, status from drip.enrollments")}
    assert rows == {ids["ada@example.com"]: "cancelled", ids["grace@example.com"]: "cancelled",
                    ids["linus@example.com"]: "completed"}
    assert db.execute("select count(*) as n from drip.outbox where status = 'queued'").fetchone()["n"] == 0


def test_enrollment_pages_follow_a_keyset(page, db):
    seq = add_sequence(db, "tag_added", "news", name="News")
    db.execute("insert into drip.contacts (email) select 'p' || g || '@example.com' from generate_series(1, 60) g")
    db.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts",
               (add_tag(db, "news"),))
    sign_in(page, f"/admin/sequences/{seq}/enrollments")
    first = page.locator("tbody tr td:first-child").all_inner_texts()
    assert len(first) == 50
    page.get_by_role("link", name="Next page →").click()
    expect(page).to_have_url(re.compile(r"after=\d+-\d+"))
    second = page.locator("tbody tr td:first-child").all_inner_texts()
    assert len(second) == 10 and not set(first) & set(second)
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)


def test_contact_page_shows_mail_clicks_and_state_and_unsubscribes(page, db, tmp_path):
    seq, ids = _news_with(db, ["ada@example.com"])
    ada = ids["ada@example.com"]
    db.execute("call drip.dispatch_due()")
    row = db.execute("select id, enrollment_id, step_id from drip.outbox").fetchone()
    db.execute("update drip.outbox set status = 'sent', sent_at = now() where id = %s", (row["id"],))
    db.execute("insert into drip.clicks (contact_id, enrollment_id, step_id, link_no, url, method) "
               "values (%s, %s, %s, 1, 'https://example.com/a', 'GET')", (ada, row["enrollment_id"], row["step_id"]))
    sign_in(page, "/admin/contacts")
    page.get_by_label("Email or contact id").fill("ADA@example.com")
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(f"/admin/contacts/{ada}$"))
    expect(page.locator("#subscription")).to_have_text("subscribed")
    history = page.locator("table").nth(1)
    expect(history).to_contain_text("mail sent")
    expect(history).to_contain_text("One")
    expect(history).to_contain_text("https://example.com/a")
    expect(page.locator("table").first).to_contain_text("News")
    screenshot(page, "contact", tmp_path)
    page.get_by_role("link", name="Unsubscribe ada@example.com…").click()
    # asked first (issue 18): the page says what it cancels, and nothing changed yet
    expect(page.locator("#active-count")).to_have_text("1")
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
    page.get_by_role("button", name="Unsubscribe ada@example.com").click()
    expect(page.get_by_role("status")).to_contain_text("Unsubscribed")
    expect(page.locator("#subscription")).to_have_text("unsubscribed")
    c = db.execute("select unsubscribed_at from drip.contacts where id = %s", (ada,)).fetchone()
    assert c["unsubscribed_at"] is not None
    assert db.execute("select status from drip.enrollments").fetchone()["status"] == "cancelled"
    assert db.execute("select via from drip.unsubscribes").fetchone()["via"] == "admin"


def test_outbox_shows_health_and_failed_messages_and_retries_one_then_all(page, db, tmp_path):
    seq, ids = _news_with(db, ["ada@example.com", "grace@example.com", "linus@example.com"])
    db.execute("call drip.dispatch_due()")
    db.execute("update drip.outbox set status = 'failed', attempts = 8, last_error = '550 5.7.1 relay denied'")
    sign_in(page, "/admin/outbox")
    expect(page.locator("#failed")).to_have_text("3")
    expect(page.locator("tbody")).to_contain_text("550 5.7.1 relay denied")
    screenshot(page, "outbox", tmp_path)
    first = db.execute("select min(id) as id from drip.outbox").fetchone()["id"]
    page.get_by_role("button", name=f"Retry message {first}").click()
    expect(page.get_by_role("status")).to_contain_text("1 message(s) queued again")
    assert db.execute("select status, attempts from drip.outbox where id = %s", (first,)).fetchone() == \
        {"status": "queued", "attempts": 0}
    expect(page.locator("#failed")).to_have_text("2")
    page.get_by_role("button", name="Retry all failed").click()
    expect(page.get_by_role("status")).to_contain_text("2 message(s) queued again")
    assert db.execute("select count(*) as n from drip.outbox where status = 'queued'").fetchone()["n"] == 3


def test_forecast_counts_per_sequence_and_step(page, db, tmp_path):
    seq, ids = _news_with(db, ["ada@example.com", "grace@example.com"])
    sign_in(page, "/admin/forecast")
    expected = db.execute("select * from drip.forecast_summary() order by step_order").fetchall()
    assert [(r["step_order"], r["next_24h"], r["next_7d"]) for r in expected] == [(1, 2, 2), (2, 0, 2)]
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("One")
    expect(rows.nth(1).locator("td").nth(3)).to_have_text("0")
    expect(rows.nth(1).locator("td").nth(4)).to_have_text("2")
    expect(page.locator("#total-7d")).to_have_text("4")
    screenshot(page, "forecast", tmp_path)


def test_the_pages_fit_a_phone(browser, server, db, tmp_path):
    _news_with(db, ["ada@example.com"])
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page)
        # nothing wider than the screen but the tables, which scroll inside their own box
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        page.keyboard.press("Tab")  # the skip link comes first for keyboard users
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    finally:
        context.close()
