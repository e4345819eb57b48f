"""Issue 18, section 5, in SQL: the procedures answer what callers used to work out for
themselves, and defaults have one home (the tables' own column defaults)."""

import psycopg
import pytest

from tests.helpers import add_contact, add_contacts, add_sequence, add_tag, error_field


def test_dispatch_due_answers_how_many_it_queued_over_several_batches(db):
    add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>"), (24, "Two", "<p>2</p>")])
    add_contacts(db, 2100)
    db.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts",
               (add_tag(db, "news"),))
    assert db.execute("call drip.dispatch_due()").fetchone()["queued"] == 2100
    assert db.execute("call drip.dispatch_due()").fetchone()["queued"] == 0
    assert db.execute("call drip.dispatch_due(now() + interval '25 hours')").fetchone()["queued"] == 2100
    assert db.execute("select count(*) as n from drip.outbox").fetchone()["n"] == 4200


def test_dispatch_batch_reports_what_it_queued_beside_what_it_claimed(db):
    add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>")], name="News")
    empty = add_sequence(db, "tag_added", "news", steps=[(0, "Off", "<p>off</p>")], name="Empty")
    db.execute("update drip.sequence_steps set active = false where sequence_id = %s", (empty,))  # sends nothing
    news = add_tag(db, "news")
    for i in range(3):
        db.execute("insert into drip.contact_tags values (%s, %s)", (add_contact(db, f"u{i}@example.com"), news))
    row = db.execute("select * from drip.dispatch_batch(now(), 100)").fetchone()
    assert (row["claimed"], row["queued"]) == (6, 3)


def test_sweep_due_answers_the_dates_it_swept_and_claims_them_for_its_caller(db):
    today = db.execute("select (now() at time zone 'UTC')::date as d").fetchone()["d"]
    swept = db.execute("call drip.sweep_due(0, 'runner-a', null)").fetchone()["swept"]
    assert today in swept and swept == sorted(swept)
    assert {r["claimed_by"] for r in db.execute("select claimed_by from drip.sweeps")} == {"runner-a"}
    assert db.execute("call drip.sweep_due(0, 'runner-b', null)").fetchone()["swept"] == []
    assert db.execute("call drip.sweep_due()").fetchone()["swept"] == []  # pg_cron's call still works


def test_sequence_defaults_are_the_tables_column_defaults(db):
    defaults = db.execute("select drip.sequence_defaults() as d").fetchone()["d"]
    assert defaults["sequence"]["active"] is True and defaults["sequence"]["time_zone"] == "UTC"
    assert defaults["sequence"]["reentry"] == "after_completion" and defaults["sequence"]["trigger_type"] is None
    assert defaults["step"] == {"delay_hours": 0, "subject": None, "html_body": None, "active": True,
                                "send_if": None, "wait_for_event": None, "control_weight": 1}
    with db.transaction(force_rollback=True):
        db.execute("alter table drip.sequences alter column active set default false")
        db.execute("alter table drip.sequences alter column time_zone set default 'Asia/Tokyo'")
        assert db.execute("select drip.sequence_defaults() #> '{sequence,active}' as a").fetchone()["a"] is False
        # save_sequence and prefab take them from there
        sid = db.execute("""select drip.save_sequence(null, '{"name": "N", "trigger_type": "tag_added"}') as id"""
                         ).fetchone()["id"]
        row = db.execute("select active, time_zone from drip.sequences where id = %s", (sid,)).fetchone()
        assert (row["active"], row["time_zone"]) == (False, "Asia/Tokyo")
        prefab = db.execute("select drip.prefab('welcome') -> 'sequence' as s").fetchone()["s"]
        assert (prefab["active"], prefab["time_zone"], prefab["name"]) == (False, "Asia/Tokyo", "Welcome series")


def test_a_prefab_carries_every_setting_and_each_step_its_active_flag(db):
    prefab = db.execute("select drip.prefab('post_purchase') as p").fetchone()["p"]
    assert set(prefab["sequence"]) == {"name", "description", "active", "trigger_type", "trigger_value", "time_zone",
                                       "send_window_start", "send_window_end", "send_days", "exit_trigger_type",
                                       "exit_trigger_value", "reentry", "entry_condition", "exit_condition",
                                       "message_class", "topic_id", "priority", "holdout_percent"}
    assert [(s["delay_hours"], s["active"]) for s in prefab["steps"]] == [(0, True), (72, True)]


def test_save_sequence_keeps_what_is_left_out_and_writes_nothing_when_nothing_changes(db):
    sid = add_sequence(db, name="News")
    db.execute("""select drip.save_sequence(%s, '{"time_zone": "Europe/Berlin", "active": false}')""", (sid,))
    before = db.execute("select * from drip.sequences where id = %s", (sid,)).fetchone()
    db.execute("""select drip.save_sequence(%s, '{"name": "  News  ", "trigger_type": "tag_added"}')""", (sid,))
    after = db.execute("select * from drip.sequences where id = %s", (sid,)).fetchone()
    assert after == before  # the same name once trimmed, nothing else said: not even updated_at moved
    assert (after["time_zone"], after["active"]) == ("Europe/Berlin", False)


@pytest.mark.parametrize("days", [[0], [8], [1, 9], ["x"]])
def test_save_sequence_refuses_weekdays_outside_one_to_seven_naming_send_days(db, days):
    import json

    with pytest.raises(psycopg.DataError) as exc:
        db.execute("select drip.save_sequence(null, %s::jsonb)",
                   (json.dumps({"name": "N", "trigger_type": "tag_added", "send_days": days}),))
    assert error_field(exc.value.diag) == "send_days"


def test_set_step_active_switches_one_step_and_refuses_an_unknown_one(db):
    add_sequence(db, steps=[(0, "One", "<p>1</p>"), (1, "Two", "<p>2</p>")])
    step = db.execute("select id from drip.sequence_steps where step_order = 2").fetchone()["id"]
    assert db.execute("select drip.set_step_active(%s, false) as c", (step,)).fetchone()["c"] is True
    assert db.execute("select drip.set_step_active(%s, false) as c", (step,)).fetchone()["c"] is False
    assert [r["active"] for r in db.execute("select active from drip.sequence_steps order by step_order")] == \
        [True, False]
    with pytest.raises(psycopg.errors.NoDataFound):
        db.execute("select drip.set_step_active(424242, true)")


def test_check_unsubscribe_token_is_unsubscribe_token_compared(db):
    secret = "s3cret-s3cret-s3cret"
    token = db.execute("select drip.unsubscribe_token(drip.hmac_pads(convert_to(%s, 'UTF8')), 5) as t",
                       (secret,)).fetchone()["t"]
    check = "select drip.check_unsubscribe_token(%s, %s, %s) as ok"
    assert db.execute(check, (secret, 5, token)).fetchone()["ok"] is True
    assert db.execute(check, (secret, 6, token)).fetchone()["ok"] is False
    assert db.execute(check, ("another-secret-entirely", 5, token)).fetchone()["ok"] is False
    assert db.execute(check, (secret, 5, None)).fetchone()["ok"] is False


def test_cancelling_counts_only_active_enrollments_and_refuses_an_unknown_status(db):
    seq = add_sequence(db, "tag_added", "news", steps=[(0, "One", "<p>1</p>")])
    news = add_tag(db, "news")
    for i in range(2):
        db.execute("insert into drip.contact_tags values (%s, %s)", (add_contact(db, f"u{i}@example.com"), news))
    count = "select drip.count_cancellable(%s, %s, null) as n"
    assert db.execute(count, (seq, None)).fetchone()["n"] == 2
    assert db.execute(count, (seq, "active")).fetchone()["n"] == 2
    assert db.execute(count, (seq, "completed")).fetchone()["n"] == 0
    for status in ("activ", "any", ""):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as exc:
            with db.transaction():
                db.execute("select drip.cancel_enrollments(%s, %s)", (seq, status))
        assert error_field(exc.value.diag) == "status"
    assert db.execute("select count(*) as n from drip.enrollments where status = 'active'").fetchone()["n"] == 2
