"""The plans of the two hot statements stay key lookups even when they are made while the tables
look empty: a sequential scan or a Materialize of enrollments/outbox inside a nested loop is
rescanned for every row, and grows with every row the same run writes (quadratic).

Read with auto_explain (nested statements); skipped where the server has no auto_explain."""

from collections.abc import Iterator

import psycopg
import pytest

from tests.helpers import add_contacts, add_sequence, add_tag, dispatch, not_on_citus, tag_everyone

pytestmark = not_on_citus(reason="on Citus the statements are planned on the workers")


@pytest.fixture
def plans(db: psycopg.Connection) -> Iterator[list[str]]:
    try:
        db.execute("load 'auto_explain'")
    except psycopg.errors.UndefinedFile:
        pytest.skip("this server has no auto_explain")
    for setting in ("auto_explain.log_min_duration = 0", "auto_explain.log_nested_statements = on",
                    "client_min_messages = log"):
        db.execute(f"set {setting}")
    logged: list[str] = []
    db.add_notice_handler(lambda diag: logged.append(diag.message_primary or ""))
    yield logged
    db.execute("reset client_min_messages")


def plan_of(logged: list[str], statement_start: str) -> str:
    found = [p for p in logged if f"Query Text: {statement_start}" in " ".join(p.split())]
    assert found, f"no plan logged for {statement_start!r}"
    return found[-1]


def test_bulk_enrollment_into_an_empty_looking_table_probes_by_key(db, plans):
    add_sequence(db, "tag_added", None)
    add_contacts(db, 300)
    db.execute("analyze drip.enrollments, drip.contacts")  # the statistics say: enrollments is empty
    tag_everyone(db, add_tag(db, "x"))
    plan = plan_of(plans, "insert into drip.enrollments")
    assert "Seq Scan on enrollments" not in plan, plan
    assert db.execute("select count(*) n from drip.enrollments").fetchone()["n"] == 300


def test_dispatch_plan_made_on_an_empty_outbox_has_no_scan_or_materialize(db, plans):
    add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (0, "two", "<p>2</p>")])
    add_contacts(db, 300)
    tag_everyone(db, add_tag(db, "x"))
    db.execute("analyze drip.outbox, drip.enrollments")  # the outbox is empty when the plan is made
    dispatch(db)
    dispatch(db)
    plan = plan_of(plans, "with due as")
    assert "Seq Scan" not in plan and "Materialize" not in plan, plan
    # every probe of an index is by key: no whole index read and filtered row by row
    assert "Rows Removed by Join Filter" not in plan and "Join Filter" not in plan, plan
    assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 600


def test_the_judged_dispatch_plan_made_on_an_empty_outbox_probes_by_key(db, plans):
    """With send_if somewhere, dispatch claims, judges, then queues by the claimed ids: its plan
    too must probe the outbox by key (once it read the whole index per row: 10x slower)."""
    seq = add_sequence(db, "tag_added", None, steps=[(0, "one", "<p>1</p>"), (0, "two", "<p>2</p>")])
    db.execute("""update drip.sequence_steps set send_if = '{"not": {"tag": "never"}}' where sequence_id = %s""",
               (seq,))
    # every feature of the statement at once: caps (their CTEs joined nothing by a nested loop of
    # every row with every row, 1.5 s a batch), variants, holdout
    db.execute("insert into drip.frequency_caps (max_messages, per) values (5, '1 day')")
    db.execute("update drip.sequences set holdout_percent = 10 where id = %s", (seq,))
    db.execute("insert into drip.step_variants (step_id, name, subject, html_body) "
               "select id, 'B', 'b', '<p>b</p>' from drip.sequence_steps where sequence_id = %s", (seq,))
    add_contacts(db, 300)
    tag_everyone(db, add_tag(db, "x"))
    db.execute("analyze drip.outbox, drip.enrollments")
    dispatch(db)
    dispatch(db)
    plan = plan_of(plans, "with due as")
    assert "e.id = any (v_claimed)" in plan or "= ANY" in plan, plan
    assert "Seq Scan on enrollments" not in plan and "Seq Scan on outbox" not in plan and "Materialize" not in plan
    assert "Join Filter" not in plan, plan
    held_out = db.execute("select count(*) n from drip.enrollments where holdout").fetchone()["n"]
    assert db.execute("select count(*) n from drip.outbox").fetchone()["n"] == 600 - 2 * held_out


def test_the_rendering_helpers_inline_into_a_generic_plan(db):
    """In dispatch_batch's once-per-session plan the settings are parameters. Each helper must
    still be inlined into plain expressions: one that is not runs as a separate SQL function
    call per row (a compose_html that used its body argument twice made dispatch 30% slower).
    Runs on any server (no auto_explain needed)."""
    add_sequence(db, "tag_added", None)
    add_contacts(db, 1)
    with db.transaction(force_rollback=True):
        db.execute("set local plan_cache_mode = force_generic_plan")
        db.execute("""
            prepare render(text, text, text, bytea[], timestamptz) as
            select drip.compose_html(drip.render_template(st.html_body, st.body_merge, c.first_name, c.last_name,
                                                          c.email, true), $1, $2, u.link),
                   drip.compose_text(drip.render_template(st.text_body, st.text_merge, c.first_name, c.last_name,
                                                          c.email, false), $1, $2, u.link),
                   pg_catalog.btrim(drip.render_template(st.subject, st.subject_merge, c.first_name, c.last_name,
                                                         c.email, false))
            from drip.contacts c
            cross join lateral (values (drip.unsubscribe_link($3, $4, c.id))) as u (link)
            cross join drip.sequence_steps st""")
        plan = "\n".join(r["QUERY PLAN"] for r in db.execute(
            "explain (verbose) execute render('', '', 'https://e.com/{contact_id}/{token}', null, now())"))
        db.execute("deallocate render")
    assert "drip." not in plan.replace("drip.contacts", "").replace("drip.sequence_steps", ""), plan
