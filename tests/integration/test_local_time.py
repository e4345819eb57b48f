"""Behaviours 10 and 11: time zones, send windows and weekdays, DST, anniversaries in local time."""

import datetime as dt
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, add_tag, enrollments, error_field, outbox, tag

LA, TOKYO = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")
UTC = dt.UTC


def at(text: str, zone: ZoneInfo = UTC) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone)


def windowed(db, start: str | None = "09:00", end: str | None = "17:00", days: list[int] | None = None,
             zone: str = "UTC", trigger=("tag_added", None), steps=None) -> int:
    seq = add_sequence(db, *trigger, steps=steps or [(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("update drip.sequences set send_window_start = %s, send_window_end = %s, send_days = %s, "
               "time_zone = %s where id = %s", (start, end, days, zone, seq))
    return seq


def next_send(db, at_: dt.datetime, zone: str, start=None, end=None, days=None) -> dt.datetime:
    return db.execute("select drip.next_send_time(%s, %s, %s::time, %s::time, drip.days_mask(%s::integer[])) t",
                      (at_, zone, start, end, days)).fetchone()["t"]


# --- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sql,args,column", [
    ("insert into drip.contacts (email, time_zone) values ('a@example.com', %s)", ("Mars/Olympus",), "time_zone"),
    ("insert into drip.contacts (email, time_zone) values ('a@example.com', %s)", ("",), "time_zone"),
    ("insert into drip.sequences (name, trigger_type, time_zone) values ('s', 'tag_added', %s)", ("PST8PDTX",),
     "time_zone"),
    ("insert into drip.sequences (name, trigger_type, send_window_start) values ('s', 'tag_added', %s)", ("09:00",),
     "send_window_end"),
    ("insert into drip.sequences (name, trigger_type, send_window_end) values ('s', 'tag_added', %s)", ("17:00",),
     "send_window_start"),
    ("insert into drip.sequences (name, trigger_type, send_window_start, send_window_end) "
     "values ('s', 'tag_added', %s, %s)", ("17:00", "09:00"), "send_window_end"),
    ("insert into drip.sequences (name, trigger_type, send_window_start, send_window_end) "
     "values ('s', 'tag_added', %s, %s)", ("09:00", "09:00"), "send_window_end"),
    ("insert into drip.sequences (name, trigger_type, send_days) values ('s', 'tag_added', %s)", ([0, 1],),
     "send_days"),
    ("insert into drip.sequences (name, trigger_type, send_days) values ('s', 'tag_added', %s)", ([8],), "send_days"),
    ("insert into drip.sequences (name, trigger_type, send_days) values ('s', 'tag_added', %s)", ([],), "send_days"),
    ("insert into drip.sequences (name, trigger_type, send_days) values ('s', 'tag_added', %s)", ([1, None],),
     "send_days"),
    ("insert into drip.sequences (name, trigger_type, exit_trigger_type) values ('s', 'tag_added', %s)", ("paid",),
     "exit_trigger_type"),
    ("insert into drip.sequences (name, trigger_type, exit_trigger_value) values ('s', 'tag_added', %s)", ("x",),
     "exit_trigger_type"),
    ("insert into drip.sequences (name, trigger_type, exit_trigger_type, exit_trigger_value) "
     "values ('s', 'tag_added', 'group_added', %s)", ("vip",), "exit_trigger_value"),
    ("insert into drip.sequences (name, trigger_type, exit_trigger_type) values ('s', 'tag_added', %s)",
     ("anniversary",), "exit_trigger_value"),
    ("insert into drip.sequences (name, trigger_type, reentry) values ('s', 'tag_added', %s)", ("sometimes",),
     "reentry"),
])
def test_bad_settings_are_refused_naming_the_field_and_write_nothing(db, sql, args, column):
    with pytest.raises(psycopg.Error) as err:
        db.execute(sql, args)
    assert err.value.diag.sqlstate == "22023", err.value
    assert error_field(err.value.diag) == column
    assert err.value.diag.message_hint
    assert db.execute("select (select count(*) from drip.contacts) + (select count(*) from drip.sequences) n"
                      ).fetchone()["n"] == 0


def test_zone_names_are_written_as_the_server_names_them_and_days_sorted(db):
    c = add_contact(db, "a@example.com", time_zone="america/los_angeles")
    assert db.execute("select time_zone from drip.contacts where id = %s", (c,)).fetchone()["time_zone"] == \
        "America/Los_Angeles"
    seq = windowed(db, days=[5, 1, 3, 1], zone="asia/TOKYO")
    row = db.execute("select time_zone, send_days from drip.sequences where id = %s", (seq,)).fetchone()
    assert row == {"time_zone": "Asia/Tokyo", "send_days": [1, 3, 5]}
    assert db.execute("select time_zone, reentry from drip.sequences where id = %s", (add_sequence(db, name="d"),)
                      ).fetchone() == {"time_zone": "UTC", "reentry": "after_completion"}


# --- the window arithmetic ----------------------------------------------------------------------

def test_a_time_inside_the_window_is_kept_and_one_outside_moves_to_the_next_opening(db):
    w = ("09:00", "17:00")
    # Wednesday 2027-03-03
    assert next_send(db, at("2027-03-03 12:00"), "UTC", *w) == at("2027-03-03 12:00")
    assert next_send(db, at("2027-03-03 07:30"), "UTC", *w) == at("2027-03-03 09:00")
    assert next_send(db, at("2027-03-03 17:00"), "UTC", *w) == at("2027-03-04 09:00")  # the end is excluded
    assert next_send(db, at("2027-03-03 20:00", LA), "America/Los_Angeles", *w) == at("2027-03-04 09:00", LA)
    # weekdays only: Saturday evening goes to Monday morning
    assert next_send(db, at("2027-03-06 18:00"), "UTC", *w, [1, 2, 3, 4, 5]) == at("2027-03-08 09:00")
    # days without a window: the next allowed day from midnight
    assert next_send(db, at("2027-03-06 18:00"), "UTC", None, None, [1]) == at("2027-03-08 00:00")
    assert next_send(db, at("2027-03-08 18:00"), "UTC", None, None, [1]) == at("2027-03-08 18:00")
    # no window, no days: unchanged
    assert next_send(db, at("2027-03-06 03:00"), "UTC") == at("2027-03-06 03:00")


def test_both_dst_transitions_of_one_zone(db):
    """Los Angeles, 2027: clocks go from 02:00 to 03:00 on 14 March and from 02:00 back to 01:00
    on 7 November."""
    zone = "America/Los_Angeles"
    # a window opening at 02:30, which does not exist on 14 March: the first valid moment after it
    assert next_send(db, at("2027-03-14 00:00", LA), zone, "02:30", "05:00") == at("2027-03-14 10:00")  # 03:00 PDT
    assert next_send(db, at("2027-03-13 06:00", LA), zone, "02:30", "05:00") == at("2027-03-14 10:00")
    # the day after, the window opens at 02:30 again
    assert next_send(db, at("2027-03-14 06:00", LA), zone, "02:30", "05:00") == at("2027-03-15 09:30")  # 02:30 PDT
    # a window opening at 01:30, which happens twice on 7 November: the first time
    assert next_send(db, at("2027-11-07 00:00", LA), zone, "01:30", "05:00") == at("2027-11-07 08:30")  # 01:30 PDT
    # and the day after, 01:30 standard time
    assert next_send(db, at("2027-11-07 06:00", LA), zone, "01:30", "05:00") == at("2027-11-08 09:30")  # 01:30 PST
    # a step due in the skipped hour with no window is due then: no local time is involved
    assert next_send(db, at("2027-03-14 10:15"), zone) == at("2027-03-14 10:15")


# --- enrollment and dispatch --------------------------------------------------------------------

def opening(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """09:00-17:00 every day, in Python: the reference the database must agree with."""
    local = moment.astimezone(zone)
    if dt.time(9) <= local.time() < dt.time(17):
        return moment
    day = local.date() + dt.timedelta(days=1 if local.time() >= dt.time(17) else 0)
    return dt.datetime.combine(day, dt.time(9), zone)


def test_enrollment_is_due_at_the_next_opening_in_the_contacts_zone_else_the_sequences(db):
    windowed(db, zone="Asia/Tokyo")
    t = add_tag(db, "x")
    la = add_contact(db, "la@example.com", time_zone="America/Los_Angeles")
    tokyo = add_contact(db, "tokyo@example.com")  # no zone of its own: the sequence's
    for c in (la, tokyo):
        tag(db, c, t)
    got = {e["contact_id"]: (e["enrolled_at"], e["next_step_due_at"]) for e in enrollments(db)}
    for contact, zone in ((la, LA), (tokyo, TOKYO)):
        enrolled, due = got[contact]
        assert due == opening(enrolled, zone)


def test_dispatch_queues_only_inside_the_window_and_moves_the_next_step_into_it(db):
    seq = windowed(db, steps=[(0, "one", "<p>1</p>"), (20, "two", "<p>2</p>")])
    c = add_contact(db, "a@example.com")
    tag(db, c, add_tag(db, "x"))
    db.execute("update drip.enrollments set next_step_due_at = %s", (at("2027-03-03 06:00"),))
    db.execute("call drip.dispatch_due(%s)", (at("2027-03-03 07:00"),))  # due, but before the window
    [e] = enrollments(db)
    assert outbox(db) == [] and e["next_step_due_at"] == at("2027-03-03 09:00")
    db.execute("call drip.dispatch_due(%s)", (at("2027-03-03 09:00"),))
    [e] = enrollments(db)
    assert [o["subject"] for o in outbox(db)] == ["one"]
    # 20 hours after 09:00 is 05:00 the next day: moved to that day's opening
    assert e["next_step_due_at"] == at("2027-03-04 09:00")
    assert seq


def test_a_window_added_later_defers_mail_already_due(db):
    seq = add_sequence(db, "tag_added", None, steps=[(1, "one", "<p>1</p>")])
    tag(db, add_contact(db, "a@example.com"), add_tag(db, "x"))
    db.execute("update drip.enrollments set next_step_due_at = %s", (at("2027-03-06 10:00"),))  # a Saturday
    db.execute("update drip.sequences set send_days = '{1,2,3,4,5}', send_window_start = '08:00', "
               "send_window_end = '18:00' where id = %s", (seq,))
    db.execute("call drip.dispatch_due(%s)", (at("2027-03-06 12:00"),))
    assert outbox(db) == [] and enrollments(db)[0]["next_step_due_at"] == at("2027-03-08 08:00")
    db.execute("call drip.dispatch_due(%s)", (at("2027-03-08 08:00"),))
    assert len(outbox(db)) == 1


# --- anniversaries in local time ----------------------------------------------------------------

def test_a_birthday_goes_out_at_nine_on_the_day_in_each_contacts_own_zone(db):
    windowed(db, trigger=("anniversary", "birthday"), steps=[(0, "Happy birthday", "<p>Cake</p>")])
    ids = {"la": add_contact(db, "la@example.com", birthday="1990-06-15", time_zone="America/Los_Angeles"),
           "tokyo": add_contact(db, "tokyo@example.com", birthday="1985-06-15", time_zone="Asia/Tokyo"),
           "utc": add_contact(db, "utc@example.com", birthday="2000-06-15")}
    db.execute("call drip.anniversary_sweep('2027-06-15')")
    due = {e["contact_id"]: e["next_step_due_at"] for e in enrollments(db)}
    expected = {"la": at("2027-06-15 09:00", LA), "tokyo": at("2027-06-15 09:00", TOKYO),
                "utc": at("2027-06-15 09:00")}
    assert due == {ids[k]: v for k, v in expected.items()}
    # each is queued at its moment, not before: Tokyo first, then UTC, then Los Angeles
    for name in sorted(expected, key=expected.get):
        db.execute("call drip.dispatch_due(%s)", (expected[name] - dt.timedelta(seconds=1),))
        before = {o["contact_id"] for o in outbox(db)}
        assert ids[name] not in before
        db.execute("call drip.dispatch_due(%s)", (expected[name],))
        assert {o["contact_id"] for o in outbox(db)} == before | {ids[name]}


def test_with_every_zone_utc_and_no_window_the_mail_is_due_at_midnight_utc(db):
    add_sequence(db, "anniversary", "birthday")
    c = add_contact(db, "a@example.com", birthday="1990-06-15")
    db.execute("call drip.anniversary_sweep('2027-06-15')")
    assert enrollments(db)[0]["next_step_due_at"] == at("2027-06-15 00:00")
    assert enrollments(db)[0]["contact_id"] == c


def test_a_sign_up_anniversary_is_the_local_date_of_the_sign_up(db):
    add_sequence(db, "anniversary", "created")
    # 23:30 UTC on 10 May is 08:30 on 11 May in Tokyo
    tokyo = add_contact(db, "t@example.com", created_at="2026-05-10 23:30+00", time_zone="Asia/Tokyo")
    utc = add_contact(db, "u@example.com", created_at="2026-05-10 23:30+00")
    db.execute("call drip.anniversary_sweep('2027-05-10')")
    assert [e["contact_id"] for e in enrollments(db)] == [utc]
    db.execute("call drip.anniversary_sweep('2027-05-11')")
    assert sorted(e["contact_id"] for e in enrollments(db)) == sorted([utc, tokyo])
    assert next(e for e in enrollments(db) if e["contact_id"] == tokyo)["next_step_due_at"] == \
        at("2027-05-11 00:00", TOKYO)
    db.execute("call drip.anniversary_sweep('2026-05-11')")  # the sign-up year itself: not yet
    assert len(enrollments(db)) == 2


def test_a_sequence_zone_decides_the_sign_up_date_of_contacts_without_one(db):
    seq = add_sequence(db, "anniversary", "created")
    db.execute("update drip.sequences set time_zone = 'Asia/Tokyo' where id = %s", (seq,))
    c = add_contact(db, "u@example.com", created_at="2026-05-10 23:30+00")
    db.execute("call drip.anniversary_sweep('2027-05-10')")
    assert enrollments(db) == []
    db.execute("call drip.anniversary_sweep('2027-05-11')")
    assert [e["contact_id"] for e in enrollments(db)] == [c]
