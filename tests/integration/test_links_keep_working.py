"""A delivered link keeps working (issue 18, section 1), in SQL: drip.publish_mail_settings
changes only what it is given and never loses a key of a link sent; rotated secrets keep
verifying; links of pruned mail still redirect and unsubscribe; drip.record_click is repeatable
with a request id; the shipped scanner list judges HTTP libraries and link checkers as bots."""

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.helpers import add_contact, add_sequence, add_tag, dispatch, error_field, outbox, tag

PUBLIC = "https://mail.example.com"
OLD, NEW, OTHER = "the-old-secret-for-links", "the-new-secret-for-links", "a-third-secret-for-links"
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"
LINKS = '<p><a href="https://example.com/one">one</a> <a href="https://example.com/two">two</a></p>'


def publish(db, partial: bool = True, **settings) -> None:
    db.execute("select drip.publish_mail_settings(%s, 'test', %s)", (Jsonb(settings), partial))


def stored(db) -> dict:
    return db.execute("select brand_header, brand_footer, unsubscribe_url, public_url, unsubscribe_mailto, "
                      "sender_domain, cardinality(link_key) / 2 as keys from drip.mail_settings").fetchone()


def token(db, row: dict, link_no: int, kind: str = "c") -> str:
    """The token the database signs now (with its current key)."""
    return db.execute("select drip.link_token(m.link_key, %s, %s, %s, %s, %s) t from drip.mail_settings m",
                      (kind, row["contact_id"], row["enrollment_id"], row["step_id"], link_no)).fetchone()["t"]


def click(db, tok: str, agent: str = BROWSER, request: uuid.UUID | None = None, again: bool = False) -> str | None:
    return db.execute("select drip.record_click(%s, 'GET', '203.0.113.9', %s, %s, %s) u",
                      (tok, agent, request, again)).fetchone()["u"]


def unsubscribe(db, tok: str) -> int | None:
    return db.execute("select drip.unsubscribe_by_token(%s) c", (tok,)).fetchone()["c"]


@pytest.fixture
def sent(db):
    """One message with two tracked links, sent an hour ago, signed with OLD; a follow-up
    sequence that a person's first click starts."""
    publish(db, public_url=PUBLIC, secret=OLD, brand_footer="<p>Footer</p>", from_address="n@example.com")
    seq = add_sequence(db, "tag_added", None, steps=[(0, "Hi", LINKS)], name="news")
    c = add_contact(db, "ada@example.com")
    tag(db, c, add_tag(db, "x"))
    dispatch(db)
    [row] = outbox(db)
    db.execute("update drip.outbox set status = 'sent', sent_at = now() - interval '1 hour'")
    follow = add_sequence(db, "after_first_click", f"step:{row['step_id']}", steps=[(24, "More", "<p>m</p>")],
                          name="follow")
    return {"row": row, "contact": c, "sequence": seq, "follow": follow,
            "link": token(db, row, 1), "unsubscribe": token(db, row, 0, "u")}


# --- publishing only what is given ------------------------------------------------------

def test_a_partial_publish_changes_only_the_keys_given_and_null_clears(db, sent):
    before = stored(db)
    assert before["public_url"] == PUBLIC and before["brand_footer"] == "<p>Footer</p>" and before["keys"] == 1
    publish(db)  # a runner given nothing publishes nothing
    publish(db, brand_header="<p>Header</p>")
    assert stored(db) == {**before, "brand_header": "<p>Header</p>"}
    assert click(db, sent["link"]) == "https://example.com/one"
    publish(db, brand_footer=None)
    assert stored(db)["brand_footer"] == ""
    publish(db, public_url=None, secret=None)  # stops tracking new mail...
    assert stored(db)["public_url"] is None
    assert click(db, sent["link"]) == "https://example.com/one"  # ...and what was sent still works
    assert unsubscribe(db, sent["unsubscribe"]) == sent["contact"]


@pytest.mark.parametrize("given", [{"public_url": PUBLIC}, {"secret": NEW}, {"public_url": PUBLIC, "secret": None}])
def test_the_public_url_and_the_secret_go_together(db, sent, given):
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        publish(db, **given)
    assert error_field(err.value.diag) in ("public_url", "secret")


def test_a_full_publish_clears_the_rest_but_keeps_every_key(db, sent):
    publish(db, partial=False, brand_header="<p>H</p>")
    assert stored(db)["public_url"] is None and stored(db)["brand_footer"] == ""
    assert click(db, sent["link"]) == "https://example.com/one"


# --- rotating the secret --------------------------------------------------------------------

def test_a_new_secret_signs_and_the_one_it_replaced_still_verifies(db, sent):
    publish(db, public_url=PUBLIC, secret=NEW)  # no PGDRIP_OLD_SECRETS at all
    assert stored(db)["keys"] == 2
    assert token(db, sent["row"], 1) != sent["link"]  # new mail is signed with NEW
    assert click(db, sent["link"]) == "https://example.com/one"
    assert click(db, token(db, sent["row"], 2)) == "https://example.com/two"
    publish(db, public_url=PUBLIC, secret=NEW)  # the same again: nothing doubles
    assert stored(db)["keys"] == 2
    assert unsubscribe(db, sent["unsubscribe"]) == sent["contact"]


def test_old_secrets_lists_the_older_keys_and_forget_drops_them(db, sent):
    publish(db, public_url=PUBLIC, secret=NEW, old_secrets=[OLD, OTHER])
    assert stored(db)["keys"] == 3
    assert click(db, sent["link"]) == "https://example.com/one"
    under_other = db.execute("select drip.link_token(drip.hmac_pads(%s), 'c', %s, %s, %s, 2) t",
                             (OTHER.encode(), sent["row"]["contact_id"], sent["row"]["enrollment_id"],
                              sent["row"]["step_id"])).fetchone()["t"]
    assert click(db, under_other) == "https://example.com/two"
    # the list given is the list kept (with the secret just replaced, if any): OTHER goes
    publish(db, public_url=PUBLIC, secret=NEW, old_secrets=[OLD])
    assert stored(db)["keys"] == 2 and click(db, under_other) is None
    assert db.execute("select drip.forget_link_secrets(array[%s]) n", (OLD,)).fetchone()["n"] == 1
    assert click(db, sent["link"]) is None and unsubscribe(db, sent["unsubscribe"]) is None
    assert click(db, token(db, sent["row"], 1)) == "https://example.com/one"  # the signing key stays
    assert db.execute("select drip.forget_link_secrets() n").fetchone()["n"] == 0


def test_old_secrets_must_be_secrets(db, sent):
    for bad in (["short"], "not-a-list-of-secrets", [12345678901234567890]):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
            publish(db, old_secrets=bad)
        assert error_field(err.value.diag) == "old_secrets"


# --- links of pruned mail -------------------------------------------------------------------

def age(db, days: int) -> None:
    db.execute("update drip.outbox set created_at = now() - %s * interval '1 day', "
               "sent_at = now() - %s * interval '1 day'", (days, days))
    db.execute("update drip.enrollments set status = 'completed', completed_at = now() - %s * interval '1 day'",
               (days,))


def test_a_link_of_pruned_mail_still_redirects_and_its_click_is_recorded(db, sent):
    age(db, 200)
    db.execute("call drip.prune(interval '180 days')")
    assert outbox(db) == [] and db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 0
    assert db.execute("select links from drip.sent_links").fetchone()["links"] == ["https://example.com/one",
                                                                                   "https://example.com/two"]
    assert click(db, sent["link"]) == "https://example.com/one"
    assert click(db, token(db, sent["row"], 2), agent="curl/8.5.0") == "https://example.com/two"
    rows = db.execute("select link_no, url, bot_reason from drip.clicks order by id").fetchall()
    assert rows == [{"link_no": 1, "url": "https://example.com/one", "bot_reason": None},
                    {"link_no": 2, "url": "https://example.com/two", "bot_reason": "known scanner: ^curl/"}]
    # the person's first click still counts, and still starts the follow-up sequence
    assert db.execute("select count(*) n from drip.link_clicks").fetchone()["n"] == 1
    assert db.execute("select count(*) n from drip.enrollments where sequence_id = %s",
                      (sent["follow"],)).fetchone()["n"] == 1
    assert click(db, token(db, sent["row"], 3)) is None  # no third link: still 404
    assert unsubscribe(db, sent["unsubscribe"]) == sent["contact"]
    assert db.execute("select count(*) n from drip.unsubscribes").fetchone()["n"] == 1


def test_prune_keeps_no_links_of_mail_never_delivered_and_forgets_them_with_the_contact(db, sent):
    c = add_contact(db, "bob@example.com")
    tag(db, c, db.execute("select id from drip.tags").fetchone()["id"])
    dispatch(db)
    db.execute("update drip.outbox set status = 'failed' where contact_id = %s", (c,))
    age(db, 200)
    db.execute("call drip.prune(interval '180 days')")
    assert [r["contact_id"] for r in db.execute("select contact_id from drip.sent_links")] == [sent["contact"]]
    db.execute("delete from drip.contacts where id = %s", (sent["contact"],))
    assert db.execute("select count(*) n from drip.sent_links").fetchone()["n"] == 0


# --- a repeated request records one click ------------------------------------------------------

def test_record_click_asked_again_with_the_same_request_id_records_once(db, sent):
    request = uuid.uuid4()
    assert click(db, sent["link"], request=request) == "https://example.com/one"
    for _ in range(2):  # asked again: the click is there already
        assert click(db, sent["link"], request=request, again=True) == "https://example.com/one"
    # another request, or the first run of one whose earlier run was rolled back: recorded
    assert click(db, sent["link"], request=uuid.uuid4(), again=True) == "https://example.com/one"
    assert click(db, sent["link"], request=uuid.uuid4()) == "https://example.com/one"
    assert db.execute("select count(*) n from drip.clicks").fetchone()["n"] == 3
    assert db.execute("select clicks from drip.step_report where step_id = %s",
                      (sent["row"]["step_id"],)).fetchone()["clicks"] == 3


# --- the shipped scanner list ---------------------------------------------------------------------

SCANNERS = [
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "Microsoft Office Protocol Discovery",
    "Microsoft Office Existence Discovery",
    "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Wget/1.21.4",
    "Python-urllib/3.11",
    "python-httpx/0.27.0",
    "aiohttp/3.9.1",
    "Java/17.0.2",
    "Apache-HttpClient/4.5.13 (Java/11.0.15)",
    "okhttp/4.9.3",
    "libwww-perl/6.67",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "axios/1.6.2",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
    "Scrapy/2.11.0 (+https://scrapy.org)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 "
    "Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "Mozilla/5.0 (compatible; Google-Safety; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    "Mozilla/5.0 zgrab/0.x",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
]
PEOPLE = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 "
    "Edg/126.0.2592.87",
    "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 "
    "Chrome/121.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/126.0.6478.71 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 "
    "YaBrowser/24.4.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 "
    "OPR/111.0.0.0",
]


def test_every_shipped_scanner_is_a_bot_and_enrolls_nobody(db, sent):
    for agent in SCANNERS:
        assert click(db, sent["link"], agent=agent) == "https://example.com/one", agent
    judged = db.execute("select user_agent, bot_reason from drip.clicks order by id").fetchall()
    assert [r["user_agent"] for r in judged] == SCANNERS
    people = [r["user_agent"] for r in judged if not (r["bot_reason"] or "").startswith("known scanner: ")]
    assert people == []
    assert db.execute("select count(*) n from drip.link_clicks").fetchone()["n"] == 0
    assert db.execute("select count(*) n from drip.enrollments where sequence_id = %s",
                      (sent["follow"],)).fetchone()["n"] == 0


@pytest.mark.parametrize("agent", PEOPLE)
def test_browsers_are_people(db, sent, agent):
    assert click(db, sent["link"], agent=agent) == "https://example.com/one"
    assert db.execute("select bot_reason from drip.clicks").fetchone()["bot_reason"] is None
    assert db.execute("select count(*) n from drip.enrollments where sequence_id = %s",
                      (sent["follow"],)).fetchone()["n"] == 1
