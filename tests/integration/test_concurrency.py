"""Uniqueness and exactly-once queueing under real concurrent connections."""

import psycopg

from tests.helpers import add_contact, add_contacts, add_sequence, add_tag, run_together, tag_everyone


def test_eight_writers_tagging_one_contact_make_one_enrollment(dsn, db):
    seq = add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    tags = [add_tag(db, f"t{i}") for i in range(8)]

    def work(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            conn.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s)", (c, tags[i]))
            conn.execute("select pg_sleep(0.05)")  # keep the transactions overlapping
            conn.commit()

    assert run_together(8, work) == []
    rows = db.execute("select count(*) n from drip.enrollments where sequence_id = %s", (seq,)).fetchone()
    assert rows["n"] == 1
    assert db.execute("select count(*) n from drip.contact_tags").fetchone()["n"] == 8


def test_four_dispatchers_queue_each_step_exactly_once(dsn, db):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "b"), (0, "two", "b"), (0, "three", "b")])
    add_contacts(db, 3000)
    t = add_tag(db, "x")
    tag_everyone(db, t)

    for round_no in range(3):
        def work(i: int, r: int = round_no) -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("call drip.dispatch_due(now() + %s * interval '1 minute')", (r,))

        assert run_together(4, work) == []
    counts = db.execute(
        "select count(*) n, count(distinct (enrollment_id, step_id)) d from drip.outbox").fetchone()
    assert counts == {"n": 9000, "d": 9000}
    assert db.execute("select count(*) n from drip.enrollments where status = 'completed'").fetchone()["n"] == 3000


def test_concurrent_sweeps_enroll_once(dsn, db):
    add_sequence(db, "anniversary", "birthday")
    db.execute("insert into drip.contacts (email, birthday) select 'u' || g || '@example.com', date '1990-06-01' "
               "from generate_series(1, 500) g")

    def work(i: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("call drip.anniversary_sweep('2027-06-01')")

    assert run_together(4, work) == []
    assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 500


def test_concurrent_bulk_taggings_of_overlapping_contacts_enroll_each_pair_once(dsn, db):
    """Both writers take the plain-insert path; the one that loses a unique race redoes its rows
    with ON CONFLICT DO NOTHING, in the same lock order, so neither deadlocks nor doubles."""
    seq_any = add_sequence(db, "tag_added", None, name="any")
    add_contacts(db, 2000)
    tags = [add_tag(db, f"t{i}") for i in range(4)]

    def work(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            conn.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts",
                         (tags[i],))
            conn.commit()

    assert run_together(4, work) == []
    row = db.execute("select count(*) n, count(distinct contact_id) c from drip.enrollments where sequence_id = %s",
                     (seq_any,)).fetchone()
    assert row == {"n": 2000, "c": 2000}
