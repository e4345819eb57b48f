"""Behaviour 2 and 7: anniversaries once per (sequence, contact, day); 29 February; created."""

import datetime as dt

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, enrollments


def sweep(db, day: str) -> None:
    db.execute("call drip.anniversary_sweep(%s)", (day,))


def test_birthday_enrolls_once_per_day_even_after_completion(db):
    seq = add_sequence(db, "anniversary", "birthday")
    c = add_contact(db, "a@example.com", birthday="1990-03-14")
    add_contact(db, "b@example.com", birthday="1990-03-15")
    sweep(db, "2027-03-14")
    db.execute("update drip.enrollments set status = 'completed'")
    sweep(db, "2027-03-14")
    assert [(e["sequence_id"], e["contact_id"], str(e["occurrence"])) for e in enrollments(db)] == [
        (seq, c, "2027-03-14")
    ]
    db.execute("update drip.enrollments set status = 'completed'")
    sweep(db, "2028-03-14")
    assert len(enrollments(db)) == 2


@pytest.mark.parametrize("day,expected", [
    ("2027-02-28", {"leap", "feb28"}),   # not a leap year: 29 Feb celebrated on 28 Feb
    ("2027-03-01", {"mar1"}),
    ("2028-02-28", {"feb28"}),           # leap year: 29 Feb has its own day
    ("2028-02-29", {"leap"}),
])
def test_29_february(db, day, expected):
    add_sequence(db, "anniversary", "birthday")
    ids = {
        add_contact(db, "leap@example.com", birthday="2000-02-29"): "leap",
        add_contact(db, "feb28@example.com", birthday="2000-02-28"): "feb28",
        add_contact(db, "mar1@example.com", birthday="2000-03-01"): "mar1",
    }
    sweep(db, day)
    assert {ids[e["contact_id"]] for e in enrollments(db)} == expected


def test_created_anniversary_starts_the_year_after_sign_up(db):
    add_sequence(db, "anniversary", "created")
    c = add_contact(db, "a@example.com", created_at="2026-05-10 23:30+00")
    add_contact(db, "late@example.com", created_at="2026-05-10 23:30-05")  # 11 May in UTC
    sweep(db, "2026-05-10")
    assert enrollments(db) == []
    sweep(db, "2027-05-10")
    assert [e["contact_id"] for e in enrollments(db)] == [c]


def test_unsubscribed_and_inactive_do_not_enroll(db):
    add_sequence(db, "anniversary", "birthday", active=False)
    add_contact(db, "a@example.com", birthday="1990-03-14")
    sweep(db, "2027-03-14")
    assert enrollments(db) == []
    db.execute("update drip.sequences set active = true")
    db.execute("update drip.contacts set unsubscribed_at = now()")
    sweep(db, "2027-03-14")
    assert enrollments(db) == []


def test_sweep_records_the_day_and_claim_is_granted_once(db):
    sweep(db, "2027-03-14")
    assert db.execute("select max(sweep_date)::text d from drip.sweeps").fetchone()["d"] == "2027-03-14"
    first = db.execute("select drip.claim_sweep('2027-03-15', 'a') c").fetchone()["c"]
    second = db.execute("select drip.claim_sweep('2027-03-15', 'b') c").fetchone()["c"]
    assert (first, second) == (True, None)


def test_sweep_uses_the_month_day_index(db):
    db.execute("insert into drip.contacts (email, birthday) select 'u' || g || '@example.com', "
               "date '1980-01-01' + g from generate_series(1, 20000) g")
    db.execute("analyze drip.contacts")
    plan = db.execute(
        "explain select id from drip.contacts c where drip.month_day(c.birthday) = any (array[314]) "
        "and c.birthday is not null and c.unsubscribed_at is null"
    ).fetchall()
    assert "contacts_birthday_md" in "\n".join(r["QUERY PLAN"] for r in plan)


def owed(db, catchup: int = 7) -> list[str]:
    return [str(r["d"]) for r in db.execute("select d from drip.sweep_dates(%s) d", (catchup,))]


def today_and_horizon(db) -> tuple[dt.date, dt.date]:
    """Today in UTC, and today where it is already tomorrow first (UTC+14)."""
    row = db.execute("select (now() at time zone 'UTC')::date t, "
                     "(now() at time zone 'UTC' + interval '14 hours')::date h").fetchone()
    return row["t"], row["h"]


def days(first: dt.date, last: dt.date) -> list[str]:
    return [str(first + dt.timedelta(days=n)) for n in range((last - first).days + 1)]


def test_a_fresh_install_owes_today_and_the_date_that_has_begun_somewhere(db):
    today, horizon = today_and_horizon(db)
    assert owed(db) == days(today, horizon)


def test_missed_days_are_owed_back_to_the_catch_up_limit(db):
    today, horizon = today_and_horizon(db)
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (today - dt.timedelta(days=3),))
    assert owed(db) == days(today - dt.timedelta(days=2), horizon)
    db.execute("delete from drip.sweeps")
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (today - dt.timedelta(days=30),))
    assert owed(db) == days(today - dt.timedelta(days=7), horizon)  # 7 days back, and today
    assert owed(db, 0) == days(today, horizon)
    # a date swept by hand further ahead is not the last swept day
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (today + dt.timedelta(days=5),))
    assert owed(db, 2) == days(today - dt.timedelta(days=2), horizon)
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (horizon,))
    assert owed(db, 2) == []
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        owed(db, -1)


def test_sweep_due_sweeps_each_missed_day_once(db):
    add_sequence(db, "anniversary", "birthday")
    today = db.execute("select (now() at time zone 'UTC')::date d").fetchone()["d"]
    _, horizon = today_and_horizon(db)
    ids = {n: add_contact(db, f"d{n}@example.com", birthday=(today - dt.timedelta(days=n)).replace(year=1992))
           for n in range(-1, 5)}
    db.execute("insert into drip.sweeps (sweep_date) values (%s)", (today - dt.timedelta(days=3),))
    db.execute("call drip.sweep_due()")
    db.execute("call drip.sweep_due()")  # nothing left owed
    got = {(e["contact_id"], e["occurrence"]) for e in enrollments(db)}
    swept = [n for n in range(-1, 3) if today - dt.timedelta(days=n) <= horizon]
    assert got == {(ids[n], today - dt.timedelta(days=n)) for n in swept}
