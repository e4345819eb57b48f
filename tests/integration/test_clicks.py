"""Tokens, tracked links and the bot rules, in SQL: drip.link_token / read_token, the links the
dispatcher renders, drip.record_click, drip.unsubscribe_by_token."""

import re

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import add_contact, add_sequence, add_tag, dispatch, error_field, outbox, tag

PUBLIC = "https://mail.example.com"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
TWO_LINKS = '<p><a href="https://example.com/one">one</a> <a href="https://example.com/two?a=1&amp;b=2">two</a></p>'


@pytest.fixture
def tracked(db):
    db.execute("select drip.publish_mail_settings(%s)", (Jsonb({"public_url": PUBLIC, "secret": "s" * 20,
                                                               "from_address": "n@example.com"}),))
    seq = add_sequence(db, "tag_added", None, steps=[(0, "Hi", TWO_LINKS)])
    c = add_contact(db, "ada@example.com")
    tag(db, c, add_tag(db, "x"))
    dispatch(db)
    [row] = outbox(db)
    return {"row": row, "contact": c, "sequence": seq}


def token(db, row: dict, link_no: int, kind: str = "c") -> str:
    return db.execute("select drip.link_token(m.link_key, %s, %s, %s, %s, %s) t from drip.mail_settings m",
                      (kind, row["contact_id"], row["enrollment_id"], row["step_id"], link_no)).fetchone()["t"]


def click(db, row: dict, link_no: int, agent: str = BROWSER, method: str = "GET") -> str | None:
    return db.execute("select drip.record_click(%s, %s, '203.0.113.9', %s) u",
                      (token(db, row, link_no), method, agent)).fetchone()["u"]


def sent_ago(db, seconds: int) -> None:
    db.execute("update drip.outbox set status = 'sent', sent_at = now() - %s * interval '1 second'", (seconds,))


def clicks(db) -> list[tuple[int, str | None]]:
    return [(r["link_no"], r["bot_reason"]) for r in db.execute("select * from drip.clicks order by id")]


def report(db, row) -> dict:
    return db.execute("select clicks, bot_clicks, unique_clickers, unsubscribes from drip.step_report "
                      "where step_id = %s", (row["step_id"],)).fetchone()


def test_a_token_reads_back_and_any_changed_character_is_refused(db, tracked):
    row = tracked["row"]
    good = token(db, row, 2)
    back = db.execute("select t.* from drip.mail_settings m, drip.read_token(m.link_key, %s) t", (good,)).fetchone()
    assert back == {"kind": "c", "contact_id": row["contact_id"], "enrollment_id": row["enrollment_id"],
                    "step_id": row["step_id"], "link_no": 2}
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changed = [good[:i] + alphabet[(alphabet.index(good[i]) + 1) % 64] + good[i + 1:] for i in range(len(good))]
    kinds = db.execute("select count(t.kind) n from drip.mail_settings m, unnest(%s::text[]) x, "
                       "drip.read_token(m.link_key, x) t", (changed + [good[:-1], good + "A", ""],)).fetchone()
    assert kinds["n"] == 0


def test_the_dispatcher_renders_tracked_links_and_stores_where_they_lead(db, tracked):
    row = tracked["row"]
    assert row["links"] == ["https://example.com/one", "https://example.com/two?a=1&b=2"]
    html_links = re.findall(r'href="([^"]*)"', row["html_body"])
    assert html_links[:3] == [f"{PUBLIC}/c/{token(db, row, n)}" for n in (0, 1, 2)]
    assert f"one ({PUBLIC}/c/{token(db, row, 1)})" in row["text_body"]
    assert row["list_unsubscribe"] == f"<{PUBLIC}/u/{token(db, row, 0, 'u')}>"
    assert row["message_id"].endswith("@example.com>") and row["list_id"].endswith(".example.com>")


def test_preview_renders_the_same_message_with_links_that_do_nothing(db, tracked):
    """A preview (admin page, `pgdrip preview`) is the message, but a forwarded preview must not
    let its reader unsubscribe the contact it was made for: its links carry no token at all."""
    row = tracked["row"]
    shown = db.execute("select * from drip.preview_step(%s, %s)", (row["step_id"], row["contact_id"])).fetchone()
    anonymous = re.compile(r"/(c|u)/([A-Za-z0-9_-]{58}|preview)")
    assert anonymous.sub("/TOKEN", shown["html_body"]) == anonymous.sub("/TOKEN", row["html_body"])
    assert anonymous.sub("/TOKEN", shown["text_body"]) == anonymous.sub("/TOKEN", row["text_body"])
    assert not re.search(r"/(c|u)/[A-Za-z0-9_-]{58}", shown["html_body"] + shown["text_body"])
    assert shown["list_unsubscribe"] == f"<{PUBLIC}/u/preview>"
    # the admin pages' live preview of what is being typed, for the same contact
    typed = db.execute("select * from drip.preview_message('Hi', %s, %s, %s)",
                       (TWO_LINKS, row["contact_id"], row["step_id"])).fetchone()
    assert typed["html_body"] == shown["html_body"] and typed["list_unsubscribe"] == shown["list_unsubscribe"]
    assert db.execute("select drip.unsubscribe_by_token('preview') c").fetchone()["c"] is None
    assert db.execute("select drip.record_click('preview', 'GET', null, %s) u", (BROWSER,)).fetchone()["u"] is None
    assert db.execute("select unsubscribed_at from drip.contacts").fetchone()["unsubscribed_at"] is None
    assert clicks(db) == []


def test_a_preview_with_a_user_served_unsubscribe_url_names_no_contact(db, tracked):
    row = tracked["row"]
    db.execute("select drip.publish_mail_settings(%s, null, true)",
               (Jsonb({"unsubscribe_url": "https://example.com/u?c={contact_id}&t={token}",
                       "unsubscribe_secret": "u" * 20}),))
    shown = db.execute("select * from drip.preview_step(%s, %s)", (row["step_id"], row["contact_id"])).fetchone()
    assert shown["list_unsubscribe"] == "<https://example.com/u?c=0&t=preview>"
    real = db.execute("select drip.unsubscribe_token(m.unsubscribe_key, %s) t from drip.mail_settings m",
                      (row["contact_id"],)).fetchone()["t"]
    assert real not in shown["html_body"] + shown["text_body"]


def test_a_person_more_than_ten_seconds_after_sending_is_never_a_bot_for_timing(db, tracked):
    row = tracked["row"]
    sent_ago(db, 60)
    assert click(db, row, 1) == "https://example.com/one"
    assert click(db, row, 2) == "https://example.com/two?a=1&b=2"  # both links in a split second
    assert clicks(db) == [(1, None), (2, None)]
    assert db.execute("select count(*) n from drip.link_clicks").fetchone()["n"] == 1  # the first human click
    assert report(db, row) == {"clicks": 2, "bot_clicks": 0, "unique_clickers": 1, "unsubscribes": 0}


def test_every_link_within_two_seconds_of_sending_is_a_scanner(db, tracked):
    row = tracked["row"]
    sent_ago(db, 1)
    click(db, row, 2)
    click(db, row, 1)
    assert clicks(db) == [(2, "every link within 2 s"), (1, "every link within 2 s")]
    assert report(db, row) == {"clicks": 0, "bot_clicks": 2, "unique_clickers": 1, "unsubscribes": 0}


def test_head_requests_the_honeypot_and_known_scanners_are_bots_and_fire_nothing(db, tracked):
    row = tracked["row"]
    sent_ago(db, 3600)
    assert click(db, row, 1, method="HEAD") == "https://example.com/one"
    assert click(db, row, 0) == ""
    assert click(db, row, 2, agent="Mozilla/5.0 (compatible; Mimecast URL Protect)") is not None
    db.execute("insert into drip.bot_user_agents (pattern) values ('corp-link-checker')")
    click(db, row, 1, agent="corp-link-checker/2.1")
    assert clicks(db) == [(1, "HEAD request"), (0, "honeypot link"), (2, "known scanner: mimecast"),
                          (1, "known scanner: corp-link-checker")]
    assert db.execute("select count(*) n from drip.link_clicks").fetchone()["n"] == 0
    assert report(db, row)["bot_clicks"] == 4 and report(db, row)["clicks"] == 0


def test_right_after_the_honeypot_a_click_is_a_bot_but_not_long_after_sending(db, tracked):
    row = tracked["row"]
    sent_ago(db, 2)
    click(db, row, 0)
    click(db, row, 1)
    assert clicks(db)[-1] == (1, "within 2 s of the honeypot")
    db.execute("delete from drip.clicks")
    sent_ago(db, 3600)
    click(db, row, 0)
    click(db, row, 1)
    assert clicks(db)[-1] == (1, None)


def test_tokens_that_are_not_this_databases_links_write_nothing(db, tracked):
    row = tracked["row"]
    for bad in (token(db, row, 0, "u"), token(db, row, 3), "x" * 58, "", None):
        assert db.execute("select drip.record_click(%s, 'GET', null, %s) u", (bad, BROWSER)).fetchone()["u"] is None
    # signed with a key this database never held
    foreign = db.execute("select drip.link_token(drip.hmac_pads('another-secret-entirely'), 'c', %s, %s, %s, 1) t",
                         (row["contact_id"], row["enrollment_id"], row["step_id"])).fetchone()["t"]
    assert db.execute("select drip.record_click(%s, 'GET', null, %s) u", (foreign, BROWSER)).fetchone()["u"] is None
    assert clicks(db) == []


@pytest.mark.parametrize("pattern", ["(unclosed", "", "  "])
def test_a_broken_scanner_pattern_is_refused(db, pattern):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        db.execute("insert into drip.bot_user_agents (pattern) values (%s)", (pattern,))
    assert error_field(err.value.diag) == "pattern"


def test_one_click_unsubscribe_records_the_message_once(db, tracked):
    row = tracked["row"]
    unsubscribe = token(db, row, 0, "u")
    for _ in range(2):
        got = db.execute("select drip.unsubscribe_by_token(%s) c", (unsubscribe,)).fetchone()["c"]
        assert got == row["contact_id"]
    assert db.execute("select count(*) n from drip.unsubscribes").fetchone()["n"] == 1
    assert report(db, row)["unsubscribes"] == 1
    assert db.execute("select unsubscribed_at is not null u from drip.contacts").fetchone()["u"]
    assert db.execute("select drip.unsubscribe_by_token(%s) c", (token(db, row, 1),)).fetchone()["c"] is None


def test_a_sequence_can_follow_clicks_in_one_steps_mail_apart_from_application_mailings(db, tracked):
    row = tracked["row"]
    ours = add_sequence(db, "after_first_click", f"step:{row['step_id']}", name="ours")
    theirs = add_sequence(db, "after_first_click", str(row["step_id"]), name="theirs")  # an app's mailing id
    sent_ago(db, 60)
    click(db, row, 1)
    enrolled = {r["sequence_id"] for r in db.execute("select sequence_id from drip.enrollments")}
    assert ours in enrolled and theirs not in enrolled
    db.execute("insert into drip.link_clicks (contact_id, mailing_id) values (%s, %s)",
               (row["contact_id"], row["step_id"]))  # the application's own mailing with the same number
    assert theirs in {r["sequence_id"] for r in db.execute("select sequence_id from drip.enrollments")}


def test_a_click_commits_without_waiting_for_the_disk_and_an_unsubscribe_waits(db, tracked):
    """README: a crash can lose the last fraction of a second of clicks, never an unsubscribe."""
    row = tracked["row"]
    with db.transaction():
        click(db, row, 1)
        assert db.execute("select current_setting('synchronous_commit') s").fetchone()["s"] == "off"
    with db.transaction():
        db.execute("select drip.unsubscribe_by_token(%s)", (token(db, row, 0, "u"),))
        assert db.execute("select current_setting('synchronous_commit') s").fetchone()["s"] == "on"
    assert db.execute("select unsubscribed_at is not null u from drip.contacts").fetchone()["u"]
