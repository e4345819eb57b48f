"""Issue 18, section 5: the sequence form drops, truncates and defaults nothing. Every value goes
to drip.save_sequence as typed and the database's answer is shown at its field; a new form starts
from what SQL would write (drip.sequence_defaults, drip.prefab)."""

import re
from contextlib import closing

from playwright.sync_api import expect

from tests.browser.conftest import save, sign_in
from tests.browser.test_admin_trust import _signed_in
from tests.helpers import add_sequence


def _form(name: str = "News", steps: int = 1, **extra: str) -> dict:
    data = {"name": name, "trigger_type": "tag_added", "trigger_value": "news", "time_zone": "UTC",
            "reentry": "after_completion", "active": "on", "step_count": str(steps), "op": "save"}
    for i in range(steps):
        data.update({f"steps-{i}-delay_hours": str(i), f"steps-{i}-subject": f"Step {i + 1}",
                     f"steps-{i}-html_body": f"<p>{i + 1}</p>", f"steps-{i}-active": "on"})
    return {**data, **extra}


def test_weekdays_outside_one_to_seven_are_refused_at_their_field_not_dropped(server, db):
    client, csrf = _signed_in(server.url)
    with closing(client):
        for days in (["1", "9"], ["0"], ["²"], ["1", "99999999999999999999"]):
            r = client.post("/admin/sequences/new", data={**_form(), "send_days": days, "csrf": csrf})
            assert r.status_code == 422, (days, r.status_code)
            assert re.search(r'<p class="error" id="send_days-error">send_days', r.text), days
        assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 0
        r = client.post("/admin/sequences/new", data={**_form(), "send_days": ["5", "1"], "csrf": csrf})
        assert r.status_code == 303
    assert db.execute("select send_days from drip.sequences").fetchone()["send_days"] == [1, 5]


def test_a_sequence_of_more_than_a_hundred_steps_is_saved_whole(server, db):
    seq = add_sequence(db, "tag_added", "news", steps=[(i, f"Step {i + 1}", f"<p>{i + 1}</p>") for i in range(150)],
                       name="News")
    client, csrf = _signed_in(server.url)
    with closing(client):
        page = client.get(f"/admin/sequences/{seq}/edit").text
        assert 'name="step_count" id="step_count" value="150"' in page
        ids = dict(re.findall(r'name="steps-(\d+)-id" value="(\d+)"', page))
        data = _form(steps=150, csrf=csrf)
        data.update({f"steps-{i}-id": ids[str(i)] for i in range(150)})
        data["steps-149-subject"] = "The last one, edited"
        r = client.post(f"/admin/sequences/{seq}/edit", data=data)
        assert r.status_code == 303, r.text[:2000]
    rows = db.execute("select step_order, subject, active from drip.sequence_steps order by step_order").fetchall()
    assert len(rows) == 150 and all(r["active"] for r in rows)
    assert rows[-1]["subject"] == "The last one, edited"


def test_a_step_the_form_says_it_has_but_does_not_carry_is_refused_by_its_position(server, db):
    client, csrf = _signed_in(server.url)
    with closing(client):
        r = client.post("/admin/sequences/new", data={**_form(steps=2), "step_count": "3", "csrf": csrf})
        assert r.status_code == 422 and re.search(r'id="steps-2-[a-z_]+-error"', r.text)
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 0


def test_an_empty_delay_is_the_databases_to_judge(server, db):
    client, csrf = _signed_in(server.url)
    with closing(client):
        r = client.post("/admin/sequences/new", data={**_form(), "steps-0-delay_hours": "", "csrf": csrf})
        assert r.status_code == 422 and 'id="steps-0-delay_hours-error"' in r.text
    assert db.execute("select count(*) as n from drip.sequences").fetchone()["n"] == 0


def test_a_prefab_and_a_blank_form_start_as_sql_would_create_them(server, db):
    made = db.execute("select drip.create_sequence_from_prefab('welcome') as id").fetchone()["id"]
    created = db.execute("select * from drip.sequences where id = %s", (made,)).fetchone()
    # one home: change a column default in the database, and the blank form follows it
    db.execute("alter table drip.sequences alter column time_zone set default 'Europe/Lisbon'")
    db.execute("alter table drip.sequences alter column reentry set default 'never'")
    db.execute("alter table drip.sequence_steps alter column delay_hours set default 6")
    client, csrf = _signed_in(server.url)
    with closing(client):
        prefab = client.get("/admin/sequences/new", params={"prefab": "welcome"}).text
        active = re.search(r'<input type="checkbox" id="active" name="active" ([^>]*)>', prefab).group(1)
        assert ("checked" in active) is created["active"] is True
        blank = client.get("/admin/sequences/new").text
        assert re.search(r'id="active" name="active" checked', blank)  # drip.sequences.active defaults to true
        assert 'name="time_zone" value="Europe/Lisbon"' in blank
        assert re.search(r'<option value="never"\s+selected>', blank)
        assert 'name="steps-0-delay_hours" value="6"' in blank
        added = client.post("/admin/sequences/new", data={**_form(), "op": "add", "csrf": csrf}).text
        assert 'name="steps-1-delay_hours" value="6"' in added
        # no trigger is chosen for you: the database asks for one, at its field
        r = client.post("/admin/sequences/new", data={**_form(), "trigger_type": "", "csrf": csrf})
        assert r.status_code == 422 and 'id="trigger_type-error"' in r.text


def test_the_birthday_prefab_saved_from_the_form_is_active_as_from_sql(page, db):
    sign_in(page, "/admin/sequences/new?prefab=birthday")
    expect(page.get_by_label("Active (enrolls contacts and sends)")).to_be_checked()
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    from_form = db.execute("select * from drip.sequences").fetchone()
    made = db.execute("select drip.create_sequence_from_prefab('birthday') as id").fetchone()["id"]
    from_sql = db.execute("select * from drip.sequences where id = %s", (made,)).fetchone()
    keys = ("description", "active", "trigger_type", "trigger_value", "time_zone", "send_window_start",
            "send_window_end", "send_days", "exit_trigger_type", "exit_trigger_value", "reentry")
    assert {k: from_form[k] for k in keys} == {k: from_sql[k] for k in keys}
