"""Every operator command through the real entry point, against a real database."""

import json
import os

import pytest

from tests.acceptance.cli import assert_one_line_error, pgdrip
from tests.helpers import add_contact, add_sequence, add_tag, enrollments, outbox


@pytest.fixture
def world(db):
    """Two sequences, one contact enrolled in the first, one queued and one failed message."""
    s1 = add_sequence(db, "tag_added", "vip", steps=[(0, "Hi {{FirstName}}", "<p>{{FirstName|you}}</p>"),
                                                     (24, "two", "b")], name="VIP welcome")
    s2 = add_sequence(db, "anniversary", "birthday", name="Birthday", active=False)
    c = add_contact(db, "ada@example.com", "Ada <3")
    db.execute("insert into drip.contact_tags values (%s, %s)", (c, add_tag(db, "vip")))
    db.execute("call drip.dispatch_due()")
    return {"s1": s1, "s2": s2, "contact": c, "enrollment": enrollments(db)[0]["id"]}


def test_sequences_list_table_and_json_and_sort(dsn, world):
    r = pgdrip("sequences", "list", dsn=dsn)
    assert r.returncode == 0, r.stderr
    header, first, second = r.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "TRIGGER", "STEP_COUNT", "ACTIVE_ENROLLMENTS", "STATUS"]
    assert "tag_added:vip" in first and first.split()[-1] == "active"
    assert "anniversary:birthday" in second and second.split()[-1] == "inactive"
    rows = json.loads(pgdrip("sequences", "list", "--json", "--sort", "name", dsn=dsn).stdout)
    assert [r["name"] for r in rows] == ["Birthday", "VIP welcome"]
    assert rows[1]["active_enrollments"] == 1 and rows[1]["step_count"] == 2


def test_sequences_show(dsn, world):
    r = pgdrip("sequences", "show", str(world["s1"]), dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert "VIP welcome" in r.stdout and "24h" in r.stdout and "Hi {{FirstName}}" in r.stdout
    data = json.loads(pgdrip("sequences", "show", str(world["s1"]), "--json", dsn=dsn).stdout)
    assert [s["step_order"] for s in data["steps"]] == [1, 2]
    assert_one_line_error(pgdrip("sequences", "show", "999", dsn=dsn), "sequence 999 does not exist")


def test_sequences_create_from_prefab(dsn, db):
    r = pgdrip("sequences", "create", "--prefab", "post_purchase", "--name", "Books", "--trigger-value", "b1",
               dsn=dsn)
    assert r.returncode == 0, r.stderr
    row = db.execute("select name, trigger_type, trigger_value from drip.sequences").fetchone()
    assert row == {"name": "Books", "trigger_type": "after_purchase", "trigger_value": "b1"}
    bad = pgdrip("sequences", "create", "--prefab", "birthday", "--trigger-value", "easter", dsn=dsn)
    assert_one_line_error(bad, "anniversary trigger value must be birthday or created", "hint:")
    assert db.execute("select count(*) n from drip.sequences").fetchone()["n"] == 1


def test_sequences_and_steps_activate_deactivate(dsn, db, world):
    assert pgdrip("sequences", "activate", str(world["s2"]), dsn=dsn).returncode == 0
    assert pgdrip("sequences", "deactivate", str(world["s1"]), dsn=dsn).returncode == 0
    got = {r["id"]: r["active"] for r in db.execute("select id, active from drip.sequences").fetchall()}
    assert got == {world["s1"]: False, world["s2"]: True}
    step = db.execute("select id from drip.sequence_steps where step_order = 2").fetchone()["id"]
    assert pgdrip("steps", "deactivate", str(step), dsn=dsn).returncode == 0
    assert db.execute("select active from drip.sequence_steps where id = %s", (step,)).fetchone()["active"] is False
    assert pgdrip("steps", "activate", str(step), dsn=dsn).returncode == 0
    assert db.execute("select active from drip.sequence_steps where id = %s", (step,)).fetchone()["active"] is True
    r = pgdrip("steps", "deactivate", str(step), "424242", dsn=dsn)
    assert_one_line_error(r, "step 424242 does not exist")
    assert db.execute("select active from drip.sequence_steps where id = %s", (step,)).fetchone()["active"] is True


def test_enrollments_filters(dsn, world):
    r = pgdrip("enrollments", "--contact", "ADA@example.com", dsn=dsn)
    assert r.returncode == 0 and "ada@example.com" in r.stdout and "VIP welcome" in r.stdout
    rows = json.loads(pgdrip("enrollments", "--sequence", str(world["s1"]), "--status", "active", "--json",
                             dsn=dsn).stdout)
    assert [(r["id"], r["last_step_order_sent"]) for r in rows] == [(world["enrollment"], 1)]
    assert json.loads(pgdrip("enrollments", "--status", "cancelled", "--json", dsn=dsn).stdout) == []
    assert_one_line_error(pgdrip("enrollments", "--contact", "nobody@example.com", dsn=dsn), "no contact")


def test_cancel_by_id_and_by_pair(dsn, db, world):
    assert_one_line_error(pgdrip("cancel", str(world["enrollment"]), "999999", dsn=dsn),
                          "enrollment 999999 does not exist")
    assert enrollments(db)[0]["status"] == "active"  # all or nothing
    r = pgdrip("cancel", "--sequence", str(world["s1"]), "--contact", "ada@example.com", dsn=dsn)
    assert r.returncode == 0 and "cancelled 1" in r.stdout, r.stderr
    assert enrollments(db)[0]["status"] == "cancelled"
    assert "not active" in pgdrip("cancel", str(world["enrollment"]), dsn=dsn).stdout
    assert_one_line_error(pgdrip("cancel", "--sequence", str(world["s1"]), "--contact", "ada@example.com", dsn=dsn),
                          "no active enrollment")
    assert pgdrip("cancel", dsn=dsn).returncode == 2  # usage error


def test_preview_renders_as_sent(dsn, db, world):
    step = db.execute("select id from drip.sequence_steps where step_order = 1").fetchone()["id"]
    r = pgdrip("preview", str(step), "--contact", str(world["contact"]), dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert "Subject: Hi Ada <3" in r.stdout and "<p>Ada &lt;3</p>" in r.stdout
    assert_one_line_error(pgdrip("preview", "999999", "--contact", "ada@example.com", dsn=dsn),
                          "step 999999 does not exist")


def test_status(dsn, db, world):
    db.execute("insert into drip.sweeps (sweep_date) values ('2027-01-02')")
    data = json.loads(pgdrip("status", "--json", dsn=dsn).stdout)
    assert (data["queued"], data["failed"], data["last_sweep"]) == (1, 0, "2027-01-02")
    text = pgdrip("status", dsn=dsn).stdout
    assert "queued:        1" in text and "last sweep:    2027-01-02" in text


def test_outbox_list_and_retry(dsn, db, world):
    oid = outbox(db)[0]["id"]
    db.execute("update drip.outbox set status = 'failed', attempts = 8, last_error = '550 no' where id = %s", (oid,))
    rows = json.loads(pgdrip("outbox", "list", "--status", "failed", "--json", dsn=dsn).stdout)
    assert [(r["id"], r["last_error"]) for r in rows] == [(oid, "550 no")]
    assert "550 no" in pgdrip("outbox", "list", dsn=dsn).stdout
    assert_one_line_error(pgdrip("outbox", "retry", "777777", dsn=dsn), "not failed outbox rows: 777777")
    r = pgdrip("outbox", "retry", str(oid), dsn=dsn)
    assert r.returncode == 0 and "queued 1" in r.stdout
    assert (outbox(db)[0]["status"], outbox(db)[0]["attempts"]) == ("queued", 0)
    db.execute("update drip.outbox set status = 'failed'")
    assert "queued 1" in pgdrip("outbox", "retry", "--all-failed", dsn=dsn).stdout


def test_dispatch_and_sweep_commands(dsn, db):
    add_sequence(db, "anniversary", "birthday", steps=[(0, "Happy birthday", "b")])
    add_contact(db, "b@example.com", birthday="2000-02-29")
    r = pgdrip("sweep", "--date", "2027-02-28", dsn=dsn)
    assert r.returncode == 0, r.stderr
    assert len(enrollments(db)) == 1
    # the birthday mail is due at local midnight of that date (UTC here), not before
    r = pgdrip("dispatch", "--now", "2027-02-27 23:59:59", dsn=dsn)
    assert r.returncode == 0 and "0 message(s) queued" in r.stdout
    r = pgdrip("dispatch", "--now", "2027-02-28", dsn=dsn)
    assert r.returncode == 0 and "1 message(s) queued" in r.stdout


def test_database_errors_are_one_readable_line(dsn, db):
    r = pgdrip("sequences", "list", dsn=dsn + " port=1")
    assert_one_line_error(r, "cannot connect")
    r = pgdrip("sequences", "list", dsn="this is not a dsn")
    assert_one_line_error(r)


def test_every_command_has_help_with_an_example():
    commands = [[], ["migrate"], ["run"], ["demo"], ["dispatch"], ["sweep"], ["cancel"], ["apply"],
                ["enrollments"], ["preview"], ["status"], ["outbox", "list"], ["outbox", "retry"],
                ["sequences", "list"], ["sequences", "show"], ["sequences", "create"], ["sequences", "activate"],
                ["sequences", "deactivate"], ["steps", "activate"], ["steps", "deactivate"], ["cron", "install"],
                ["cron", "uninstall"]]
    for cmd in commands:
        r = pgdrip(*cmd, "--help")
        assert r.returncode == 0 and "Example" in r.stdout, (cmd, r.stdout)


def test_shell_completion_script():
    r = pgdrip(env={"_PGDRIP_COMPLETE": "bash_source"})
    assert r.returncode == 0 and "_pgdrip_completion" in r.stdout


def test_the_dsn_flag_wins_over_the_environment(dsn, world):
    r = pgdrip("sequences", "list", "--json", "--dsn", dsn, env={"PGDRIP_DSN": "host=127.0.0.1 port=1"})
    assert r.returncode == 0, r.stderr
    assert [s["name"] for s in json.loads(r.stdout)] == ["VIP welcome", "Birthday"]
    r = pgdrip("status", env={"PGDRIP_DSN": "host=127.0.0.1 port=1"})
    assert_one_line_error(r, "cannot connect", "port 1")


def test_migrate_refuses_a_database_that_is_not_utf8_in_one_line(server_dsn, tmp_home):
    import psycopg

    from tests.helpers import with_dbname

    name = f"drip_ascii_{os.getpid()}"
    with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
        conn.execute(f"create database {name} encoding 'SQL_ASCII' locale 'C' template template0")
    try:
        r = pgdrip("migrate", dsn=with_dbname(server_dsn, name), home=tmp_home)
        assert r.returncode == 1
        assert r.stderr.strip() == (f"error: database {name} has encoding SQL_ASCII, pgdrip needs UTF8; create one "
                                    f"with: create database {name}_utf8 encoding 'UTF8' locale 'C.UTF-8' "
                                    "template template0")
        with psycopg.connect(with_dbname(server_dsn, name)) as conn:  # nothing was written
            assert conn.execute("select to_regnamespace('drip')").fetchone()[0] is None
    finally:
        with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")
