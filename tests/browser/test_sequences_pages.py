"""The sequences pages in Chromium, as a marketer uses them; each test checks the database after."""

from playwright.sync_api import expect

from tests.browser.conftest import press, save, screenshot, sign_in
from tests.helpers import add_contact, add_sequence, add_tag, tag


def test_create_the_birthday_prefab_edit_a_step_see_an_error_by_its_field_and_activate(page, db, tmp_path):
    sign_in(page)
    page.get_by_role("link", name="New sequence").click()
    page.get_by_role("link", name="Birthday prefab").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Birthday greeting")
    expect(page.get_by_label("Trigger type")).to_have_value("anniversary")
    expect(page.get_by_label("Trigger value")).to_have_value("birthday")
    # the prefab starts as drip.create_sequence_from_prefab makes it: active (issue 18, section 5)
    expect(page.get_by_label("Active (enrolls contacts and sends)")).to_be_checked()
    page.get_by_label("Active (enrolls contacts and sends)").uncheck()
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Existing enrollments continue from where they are; "
                                                       "new enrollments use these steps")
    [seq] = db.execute("select * from drip.sequences").fetchall()
    assert (seq["name"], seq["trigger_type"], seq["trigger_value"], seq["active"]) == \
        ("Birthday greeting", "anniversary", "birthday", False)
    assert db.execute("select count(*) as n from drip.sequence_steps where sequence_id = %s",
                      (seq["id"],)).fetchone()["n"] == 1

    # edit the step; an invalid delay is refused by the database and shown next to its field,
    # with everything typed kept
    page.get_by_label("Subject").fill("Many happy returns, {{FirstName|friend}}")
    page.get_by_label("Delay (hours)").fill("-3")
    save(page)
    error = page.locator("#steps-0-delay_hours-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("delay_hours")
    expect(page.get_by_label("Delay (hours)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Subject")).to_have_value("Many happy returns, {{FirstName|friend}}")
    screenshot(page, "sequence-form-error", tmp_path)
    assert db.execute("select subject from drip.sequence_steps").fetchone()["subject"] == \
        "Happy birthday, {{FirstName|friend}}!"  # nothing was written

    page.get_by_label("Delay (hours)").fill("2")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    step = db.execute("select subject, delay_hours from drip.sequence_steps").fetchone()
    assert (step["subject"], float(step["delay_hours"])) == ("Many happy returns, {{FirstName|friend}}", 2.0)

    page.get_by_role("link", name="All sequences").click()
    page.get_by_role("button", name="Activate Birthday greeting").click()
    expect(page.get_by_role("status")).to_contain_text("is active now")
    assert db.execute("select active from drip.sequences").fetchone()["active"] is True


def test_an_invalid_sequence_setting_is_shown_by_its_field(page, db):
    sign_in(page, "/admin/sequences/new")
    page.get_by_label("Name", exact=True).fill("Weekdays")
    page.get_by_label("Trigger type").select_option("tag_added")
    page.get_by_label("Trigger value").fill("vip")
    page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    save(page)
    expect(page.locator("#time_zone-error")).to_contain_text("unknown time zone")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Weekdays")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Send window from").fill("17:00")
    page.get_by_label("until").fill("09:00")
    save(page)
    expect(page.locator("#send_window_end-error")).to_contain_text("must end after it starts")
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 0

    page.get_by_label("until").fill("18:00")
    page.get_by_label("Mon").check()
    page.get_by_label("Fri").check()
    page.get_by_label("Goal (leave the sequence when)").select_option("tag_added")
    page.get_by_label("Goal value").fill("customer")
    page.get_by_label("Re-entry").select_option("never")
    page.get_by_label("Subject").fill("Hello")
    page.get_by_label("HTML body").fill("<p>Hi</p>")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    seq = db.execute("select * from drip.sequences").fetchone()
    assert (seq["time_zone"], str(seq["send_window_start"]), str(seq["send_window_end"]), seq["send_days"],
            seq["exit_trigger_type"], seq["exit_trigger_value"], seq["reentry"]) == \
        ("Europe/Berlin", "17:00:00", "18:00:00", [1, 5], "tag_added", "customer", "never")


def test_add_remove_and_reorder_steps_without_resending_to_people_in_flight(page, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (24, "Two", "<p>2</p>"),
                                                       (48, "Three", "<p>3</p>")], name="News")
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    db.execute("call drip.dispatch_due()")  # Ada has received step 1
    sign_in(page, f"/admin/sequences/{seq}/edit")
    press(page, "+ Add step")  # done on the form, nothing saved yet
    expect(page.get_by_label("Subject")).to_have_count(4)
    page.locator("#steps-3-subject").fill("Zero")
    page.locator("#steps-3-html_body").fill("<p>0</p>")
    for n in (4, 3, 2):
        press(page, f"Move step {n} up")
    expect(page.locator("#steps-0-subject")).to_have_value("Zero")
    press(page, "Remove step 4")  # "Three"
    expect(page.get_by_label("Subject")).to_have_count(3)
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Existing enrollments continue from where they are")
    steps = db.execute("select step_order, subject, active from drip.sequence_steps where sequence_id = %s "
                       "order by step_order", (seq,)).fetchall()
    assert [(s["subject"], s["active"]) for s in steps] == [("Zero", True), ("One", True), ("Two", True),
                                                            ("Three", False)]
    # Ada got "One", now step 2: she continues with "Two", never "Zero" or "One" again
    e = db.execute("select last_step_order_sent from drip.enrollments").fetchone()
    assert e["last_step_order_sent"] == 2
    db.execute("call drip.dispatch_due(now() + interval '30 days')")
    sent = [r["subject"] for r in db.execute("select subject from drip.outbox order by id")]
    assert sent == ["One", "Two"]


def test_live_preview_is_rendered_by_the_database_for_a_picked_contact(page, db, tmp_path):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "Hi {{FirstName}}", "<p>Hello {{FirstName}}</p>")],
                       name="News")
    add_contact(db, "grace@example.com", "Grace")
    sign_in(page, f"/admin/sequences/{seq}/edit")
    page.get_by_label("Preview for contact").fill("grace@example.com")
    page.get_by_label("Subject").fill("Welcome aboard, {{FirstName|friend}} <3")
    preview = page.locator("#preview-0")
    expect(preview.locator(".preview-subject")).to_have_text("Welcome aboard, Grace <3")
    frame = page.frame_locator("#preview-0 iframe")
    expect(frame.locator("p")).to_have_text("Hello Grace")
    expected = db.execute("select subject from drip.preview_message(%s, %s, "
                          "(select id from drip.contacts where email = 'grace@example.com'))",
                          ("Welcome aboard, {{FirstName|friend}} <3", "<p>Hello {{FirstName}}</p>")).fetchone()
    assert expected["subject"] == "Welcome aboard, Grace <3"
    page.get_by_label("Subject").blur()
    # a full-page screenshot leaves the sandboxed frame blank: a viewport as tall as the page
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.body.scrollHeight")})
    expect(frame.locator("p")).to_have_text("Hello Grace")
    screenshot(page, "sequence-form", tmp_path)
    # a merge tag the database refuses is shown in the preview, and nothing is saved
    page.get_by_label("Subject").fill("Hi {{Nickname}}")
    expect(preview).to_contain_text("Nickname")
    assert db.execute("select subject from drip.sequence_steps").fetchone()["subject"] == "Hi {{FirstName}}"


def test_the_form_works_with_javascript_off(browser, server, db):
    context = browser.new_context(base_url=server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "/admin/sequences/new")
        page.get_by_role("link", name="Welcome series prefab").click()
        expect(page.get_by_label("Subject")).to_have_count(3)
        press(page, "Preview step 1")  # a full round trip instead of htmx
        expect(page.locator("#preview-0 .preview-subject")).to_have_text("Welcome, Ada!")
        press(page, "Remove step 3")
        save(page)
        expect(page.get_by_role("status")).to_contain_text("Saved.")
    finally:
        context.close()
    seq = db.execute("select * from drip.sequences").fetchone()
    assert seq["name"] == "Welcome series"
    assert db.execute("select count(*) as n from drip.sequence_steps").fetchone()["n"] == 2


def test_list_filters_sorts_shows_report_totals_and_duplicates(page, db, tmp_path):
    news = add_sequence(db, "tag_added", "news", name="News", steps=[(0, "A", "<p>a</p>"), (24, "B", "<p>b</p>")])
    add_sequence(db, "group_added", "7", name="VIP club")
    add_sequence(db, "anniversary", "birthday", name="Birthday", active=False)
    ada = add_contact(db, "ada@example.com", "Ada")
    tag(db, ada, add_tag(db, "news"))
    db.execute("call drip.dispatch_due()")
    db.execute("update drip.outbox set status = 'sent', sent_at = now()")
    sign_in(page)
    row = page.locator(f"#sequence-{news}")
    expect(row.locator("td").nth(2)).to_have_text("2")   # steps
    expect(row.locator("td").nth(3)).to_have_text("1")   # active enrollments
    expect(row.locator("td").nth(4)).to_have_text("1")   # sent, from the step report
    screenshot(page, "sequences", tmp_path)
    page.get_by_label("Name contains").fill("vip")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("VIP club")
    page.goto("/admin/sequences?trigger=anniversary")
    expect(page.locator("tbody tr")).to_have_count(1)
    page.goto("/admin/sequences")
    page.get_by_role("link", name="Name").click()  # name, descending now
    expect(page.locator("tbody tr").first).to_contain_text("VIP club")
    page.get_by_role("button", name="Duplicate News").click()
    expect(page.get_by_role("status")).to_contain_text("Duplicated")
    copy = db.execute("select * from drip.sequences where name = 'Copy of News'").fetchone()
    assert copy["active"] is False
    assert [r["subject"] for r in db.execute("select subject from drip.sequence_steps where sequence_id = %s "
                                             "order by step_order", (copy["id"],))] == ["A", "B"]
    page.goto("/admin/sequences")
    page.get_by_role("button", name="Deactivate News").click()
    expect(page.get_by_role("status")).to_contain_text("is inactive now")
    assert db.execute("select active from drip.sequences where id = %s", (news,)).fetchone()["active"] is False
