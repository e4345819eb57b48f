"""contact_tags and group_members: references checked per statement, locked like a foreign key,
and cascaded on delete."""

import threading

import psycopg
import pytest

from tests.helpers import (
    add_contact,
    add_contacts,
    add_sequence,
    add_tag,
    enrollments,
    not_on_citus,
    wait_until_blocked,
)


def counts(db) -> dict:
    return db.execute("select (select count(*) from drip.contact_tags) tags, "
                      "(select count(*) from drip.group_members) members").fetchone()


def test_deleting_contacts_tags_and_groups_cascades(db):
    a, b = add_contact(db, "a@example.com"), add_contact(db, "b@example.com")
    t1, t2 = add_tag(db, "one"), add_tag(db, "two")
    g = db.execute("insert into drip.groups (name) values ('g') returning id").fetchone()["id"]
    db.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t")
    db.execute("insert into drip.group_members select %s, id from drip.contacts", (g,))
    db.execute("delete from drip.contacts where id = %s", (a,))
    assert counts(db) == {"tags": 2, "members": 1}
    db.execute("delete from drip.tags where id = %s", (t1,))
    assert db.execute("select contact_id, tag_id from drip.contact_tags").fetchall() == [
        {"contact_id": b, "tag_id": t2}]
    db.execute("delete from drip.groups where id = %s", (g,))
    assert counts(db) == {"tags": 1, "members": 0}


@not_on_citus(reason="a foreign key refuses it, with PostgreSQL's own message")
def test_bulk_insert_with_one_bad_reference_writes_nothing(db):
    add_contacts(db, 100)
    t = add_tag(db, "x")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        db.execute("insert into drip.contact_tags (contact_id, tag_id) "
                   "select id, %s from drip.contacts union all select -1, %s", (t, t))
    assert counts(db)["tags"] == 0


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_tagging_waits_for_a_concurrent_contact_delete_then_fails(dsn, db):
    c = add_contact(db, "a@example.com")
    t = add_tag(db, "x")
    result: dict = {}
    with psycopg.connect(dsn) as deleter:
        deleter.execute("delete from drip.contacts where id = %s", (c,))  # not committed yet

        def tag() -> None:
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("insert into drip.contact_tags values (%s, %s)", (c, t))
                result["ok"] = True
            except psycopg.Error as exc:
                result["error"] = exc

        th = threading.Thread(target=tag)
        th.start()
        wait_until_blocked(db, "insert into drip.contact_tags")  # on the deleter's row lock
        assert result == {}
        deleter.commit()
        th.join(10)
    assert isinstance(result.get("error"), psycopg.errors.ForeignKeyViolation)
    assert counts(db)["tags"] == 0


def _delete_waits_for(dsn: str, contact: int, write_sql: str, args: tuple) -> None:
    """A transaction writes a row that refers to the contact; a concurrent delete of that contact
    must wait on the writer's FOR KEY SHARE lock, and finish once the writer commits."""
    done = threading.Event()
    with psycopg.connect(dsn) as writer:
        writer.execute(write_sql, args)

        def delete() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("delete from drip.contacts where id = %s", (contact,))
            done.set()

        th = threading.Thread(target=delete)
        th.start()
        with psycopg.connect(dsn, autocommit=True) as watcher:
            wait_until_blocked(watcher, "delete from drip.contacts")  # on the writer's FOR KEY SHARE lock
        assert not done.is_set()
        writer.commit()
        th.join(10)
    assert done.is_set()


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_contact_delete_waits_for_a_concurrent_tagging_then_cascades(dsn, db):
    c = add_contact(db, "a@example.com")
    t = add_tag(db, "x")
    _delete_waits_for(dsn, c, "insert into drip.contact_tags values (%s, %s)", (c, t))
    assert counts(db)["tags"] == 0  # no orphan: the cascade saw the committed tag


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_contact_delete_waits_for_fire_trigger_then_cascades(dsn, db):
    add_sequence(db, "after_purchase", None)
    c = add_contact(db, "a@example.com")
    _delete_waits_for(dsn, c, "select drip.fire_trigger('after_purchase', %s, 'x')", (c,))
    assert enrollments(db) == []  # no enrollment left behind for a contact that is gone


@not_on_citus(reason='the test sees a wait only on the coordinator; on Citus it happens on a worker')
def test_contact_delete_waits_for_the_sweep_then_cascades(dsn, db):
    add_sequence(db, "anniversary", "birthday")
    c = add_contact(db, "a@example.com", birthday="1990-03-14")
    _delete_waits_for(dsn, c, "call drip.anniversary_sweep('2027-03-14')", ())
    assert enrollments(db) == []
