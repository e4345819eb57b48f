"""Issue 6: least-privilege roles and pinned search_path."""

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, add_tag


def test_app_writes_contact_data_and_enrolls_without_touching_enrollments(db):
    add_sequence(db, "tag_added", None)
    t = add_tag(db, "x")
    with db.transaction():
        db.execute("set local role drip_app")
        c = db.execute("insert into drip.contacts (email) values ('app@example.com') returning id").fetchone()["id"]
        db.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s)", (c, t))
        db.execute("update drip.contacts set unsubscribed_at = now() where id = %s", (c,))
    assert db.execute("select status from drip.enrollments").fetchone()["status"] == "cancelled"


@pytest.mark.parametrize("role,sql", [
    ("drip_app", "select * from drip.outbox"),
    ("drip_app", "select * from drip.enrollments"),
    ("drip_app", "update drip.sequences set active = false"),
    ("drip_app", "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
                 "values (1, 9, 's', 'b')"),
    ("drip_app", "call drip.dispatch_due()"),
    ("drip_app", "select drip.cancel_enrollment(1)"),
    ("drip_runner", "update drip.sequences set active = false"),
    ("drip_runner", "delete from drip.contacts"),
    ("drip_runner", "insert into drip.contact_tags values (1, 1)"),
    ("drip_runner", "select drip.cancel_enrollment(1)"),
    ("drip_admin", "delete from drip.outbox"),
    ("drip_admin", "truncate drip.enrollments"),
    ("drip_admin", "insert into drip.contacts (email) values ('x@example.com')"),
])
def test_roles_are_refused_what_is_not_their_job(db, role, sql):
    add_sequence(db, "tag_added", None)
    add_contact(db, "a@example.com")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with db.transaction():
            db.execute(f"set local role {role}")
            db.execute(sql)


def test_runner_dispatches_sweeps_and_drains(db):
    add_sequence(db, "tag_added", None)
    c = add_contact(db, "a@example.com")
    db.execute("insert into drip.contact_tags values (%s, %s)", (c, add_tag(db, "x")))
    db.execute("set role drip_runner")
    try:
        db.execute("call drip.dispatch_due()")
        db.execute("call drip.anniversary_sweep('2027-01-01')")
        rows = db.execute("select * from drip.claim_outbox('r1', 10, 60)").fetchall()
        assert len(rows) == 1
        assert db.execute("select drip.finish_outbox('r1', %s, 'sent') n", ([rows[0]["id"]],)).fetchone()["n"] == 1
    finally:
        db.execute("reset role")


def test_admin_manages_sequences(db):
    with db.transaction():
        db.execute("set local role drip_admin")
        sid = db.execute("select drip.create_sequence_from_prefab('welcome') id").fetchone()["id"]
        db.execute("update drip.sequence_steps set active = false where sequence_id = %s and step_order = 3", (sid,))
        db.execute("select * from drip.sequence_overview").fetchall()


# docs/RELIABILITY.md quotes these two lists: change them together.
# Committing procedures cannot carry SET; the pure SQL expression helpers must not, or the planner
# would not inline them (10x slower dispatch). All of them qualify every name.
UNPINNED = ["arm_bucket", "compose_html", "compose_text", "dispatch_due", "hmac_sha256", "holdout_share",
            "html_escape", "html_unescape",
            "link_token", "merge_value", "month_day", "next_send_time", "outbox_max_attempts", "prune", "render_merge",
            "render_subject", "render_template", "steps_lock_key", "sweep_due", "unsubscribe_link",
            "unsubscribe_token", "utc_date"]
# Narrow entry points that act beyond the caller's own grants.
SECURITY_DEFINER = ["anniversary_events", "build_segment", "condition_events", "end_waits", "enroll_events",
                    "enroll_matching", "enroll_matching_shard", "exit_enrollments", "exit_events", "fire_trigger",
                    "prune_clicks_batch", "prune_contact_sends", "prune_enrollments_batch", "prune_events_batch",
                    "prune_outbox_batch", "record_click", "route_events", "tg_contacts__forget", "tg_contacts__stop",
                    "tg_frequency_caps__track", "tg_sequences__protect", "tg_sequences__segments",
                    "tg_topic_unsubscribes__stop", "tg_topics__forget", "track_sends", "unsubscribe_by_token",
                    "unsubscribe_target", "unsubscribe_token_topic", "unsubscribe_topics"]


def test_exactly_the_listed_functions_leave_search_path_unpinned_or_run_as_definer(db):
    rows = db.execute("""
        select p.proname, p.prokind, p.proconfig, p.prosecdef
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drip'
    """).fetchall()
    unpinned = sorted(r["proname"] for r in rows
                      if not any(c.startswith("search_path=") for c in (r["proconfig"] or [])))
    assert unpinned == UNPINNED
    assert sorted(r["proname"] for r in rows if r["prosecdef"]) == SECURITY_DEFINER
    unpinned_procedures = sorted(r["proname"] for r in rows if r["prokind"] == "p" and r["proname"] in unpinned)
    assert unpinned_procedures == ["dispatch_due", "prune", "sweep_due"]  # they commit


def test_unpinned_helpers_are_bound_when_created(db):
    """A SQL-standard body (RETURN ...) is parsed when the function is created: its names are
    bound then, so the caller's search_path cannot redirect them. (The source qualifies them too.)"""
    rows = db.execute("""
        select p.proname, p.prosqlbody is not null as bound from pg_proc p
        where p.pronamespace = 'drip'::regnamespace and p.proconfig is null and p.prokind = 'f'
    """).fetchall()
    assert rows and all(r["bound"] for r in rows), rows
    with db.transaction(force_rollback=True):
        db.execute("create schema evil")
        db.execute("create function evil.replace(text, text, text) returns text language sql return 'pwned'")
        db.execute("set local search_path = evil, pg_catalog")
        got = db.execute("select drip.render_merge('Hi {{FirstName}}', '<b>', null, null, true) r").fetchone()
    assert got["r"] == "Hi &lt;b&gt;"


def test_nothing_is_executable_by_public(db):
    rows = db.execute("""
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'drip' and has_function_privilege('public', p.oid, 'execute')
    """).fetchall()
    assert rows == []
