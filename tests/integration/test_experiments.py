"""Behaviour 25: variants chosen per (contact, step) by a hash, in proportion to the weights and
sticky; the report per arm with its p-value; promotion; holdout groups and conversion."""

import math

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, dispatch, enrollments, error_field, outbox


def ab_sequence(db, control_weight: int = 2, weights: tuple[int, ...] = (1, 1), holdout: float = 0) -> tuple[int, int]:
    seq = add_sequence(db, "after_purchase", None, steps=[(0, "A subject", "<p>a</p>")])
    db.execute("update drip.sequences set holdout_percent = %s where id = %s", (holdout, seq))
    step = db.execute("update drip.sequence_steps set control_weight = %s where sequence_id = %s returning id",
                      (control_weight, seq)).fetchone()["id"]
    for i, weight in enumerate(weights):
        name = chr(ord("B") + i)
        db.execute("insert into drip.step_variants (step_id, name, subject, html_body, weight) "
                   "values (%s, %s, %s, %s, %s)", (step, name, f"{name} subject", f"<p>{name.lower()}</p>", weight))
    return seq, step


def enroll_all(db) -> None:
    db.execute("insert into drip.purchases (contact_id, product_id) select id, 'p' from drip.contacts")


def arms(db) -> dict:
    return {r["variant_id"]: r["n"] for r in db.execute(
        "select variant_id, count(*) n from drip.outbox group by variant_id").fetchall()}


def test_two_thousand_contacts_split_in_proportion_to_the_weights(db):
    seq, step = ab_sequence(db, control_weight=2, weights=(1, 1))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 2000) g")
    enroll_all(db)
    dispatch(db)
    got = arms(db)
    variants = [r["id"] for r in db.execute("select id from drip.step_variants order by id").fetchall()]
    expected = {None: 0.5, variants[0]: 0.25, variants[1]: 0.25}
    for arm, share in expected.items():
        sigma = math.sqrt(2000 * share * (1 - share))
        assert abs(got[arm] - 2000 * share) < 4 * sigma, (arm, got)
    # each message is the arm's own content
    subjects = {r["variant_id"]: r["subject"] for r in outbox(db)}
    assert subjects == {None: "A subject", variants[0]: "B subject", variants[1]: "C subject"}
    assert seq and step


def test_the_arm_is_a_pure_function_of_contact_and_step(db):
    seq, step = ab_sequence(db, control_weight=1, weights=(1, 1, 1))
    db.execute("update drip.sequences set reentry = 'after_completion' where id = %s", (seq,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 300) g")
    enroll_all(db)
    dispatch(db)
    first = {r["contact_id"]: r["variant_id"] for r in outbox(db)}
    # a later enrollment of the same contact gets the same arm
    enroll_all(db)
    dispatch(db, 0.01)
    rows = outbox(db)
    assert len(rows) == 600
    assert all(first[r["contact_id"]] == r["variant_id"] for r in rows)
    # and it is the documented hash: md5 of '<contact>:<step>', laid over the weights in id order
    variants = [r["id"] for r in db.execute("select id from drip.step_variants order by id").fetchall()]
    for contact, arm in list(first.items())[:50]:
        bucket = int(__import__("hashlib").md5(f"{contact}:{step}".encode()).hexdigest()[:8], 16) % 4
        assert arm == ([None] + variants)[bucket]


def test_weights_and_inactive_variants_change_the_split(db):
    seq, step = ab_sequence(db, control_weight=0, weights=(1,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 50) g")
    enroll_all(db)
    dispatch(db)
    assert list(arms(db)) != [None] and None not in arms(db)      # control weight 0: only the variant
    db.execute("update drip.step_variants set active = false")
    db.execute("delete from drip.outbox")
    db.execute("update drip.enrollments set status = 'active', last_step_order_sent = 0, last_step_sent_at = null, "
               "next_step_due_at = now(), completed_at = null")
    dispatch(db, 0.01)
    assert arms(db) == {None: 50}                                  # no active variant: the step's own content
    assert seq


def test_the_report_counts_each_arm_and_tests_it_against_the_control(db):
    seq, step = ab_sequence(db, control_weight=1, weights=(1,))
    variant = db.execute("select id from drip.step_variants").fetchone()["id"]
    ada = add_contact(db, "ada@example.com")
    # hand-made counters: control 40 clickers of 500, B 60 of 500
    db.execute("insert into drip.step_stats (step_id, variant_id, day, contact_id, sent, unique_clickers) values "
               "(%s, null, current_date, %s, 500, 40), (%s, %s, current_date, %s, 500, 60)",
               (step, ada, step, variant, ada))
    rows = {r["variant_id"]: r for r in db.execute("select * from drip.variant_report").fetchall()}
    assert list(rows[None]) == ["step_id", "variant_id", "name", "sent", "unique_clickers", "click_rate",
                                "unsubscribes", "p_value"]
    assert (rows[None]["sent"], rows[None]["unique_clickers"], rows[None]["p_value"]) == (500, 40, None)
    assert float(rows[variant]["click_rate"]) == pytest.approx(0.12)
    # by hand: pooled p = 0.1, z = 0.04 / sqrt(0.1 * 0.9 * 2/500) = 2.1082, p = erfc(z / sqrt 2) = 0.0350
    assert float(rows[variant]["p_value"]) == pytest.approx(0.035015, abs=1e-5)
    # an arm that sent nothing has no p-value
    db.execute("insert into drip.step_variants (step_id, name, subject, html_body) values (%s, 'C', 'c', '<p>c</p>')",
               (step,))
    c = db.execute("select * from drip.variant_report where name = 'C'").fetchone()
    assert (c["sent"], c["p_value"]) == (0, None)
    assert seq


def test_sends_and_finishes_are_counted_per_arm(db):
    ab_sequence(db, control_weight=1, weights=(1,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 200) g")
    enroll_all(db)
    dispatch(db)
    db.execute("update drip.outbox set status = 'sent', sent_at = now()")
    report = {r["variant_id"]: r["sent"] for r in db.execute("select * from drip.variant_report").fetchall()}
    assert report == arms(db) and sum(report.values()) == 200


def test_promote_makes_the_variant_the_steps_content(db):
    seq, step = ab_sequence(db, control_weight=1, weights=(1, 1))
    variant = db.execute("select id from drip.step_variants where name = 'C'").fetchone()["id"]
    assert db.execute("select drip.promote_variant(%s) s", (variant,)).fetchone()["s"] == step
    row = db.execute("select subject, html_body from drip.sequence_steps where id = %s", (step,)).fetchone()
    assert row == {"subject": "C subject", "html_body": "<p>c</p>"}
    assert db.execute("select count(*) n from drip.step_variants where active").fetchone()["n"] == 0
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 20) g")
    enroll_all(db)
    dispatch(db)
    assert {(r["variant_id"], r["subject"]) for r in outbox(db)} == {(None, "C subject")}
    with pytest.raises(psycopg.errors.NoDataFound):
        db.execute("select drip.promote_variant(424242)")
    assert seq


def test_holdout_contacts_go_through_the_steps_and_are_sent_nothing(db):
    seq = add_sequence(db, "after_purchase", None, steps=[(0, "one", "<p>1</p>"), (1, "two", "<p>2</p>")])
    db.execute("update drip.sequences set holdout_percent = 20, exit_trigger_type = 'tag_added', "
               "exit_trigger_value = 'customer' where id = %s", (seq,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 1000) g")
    enroll_all(db)
    held = [r["contact_id"] for r in enrollments(db) if r["holdout"]]
    assert abs(len(held) - 200) < 4 * math.sqrt(1000 * 0.2 * 0.8)
    # chosen by contact, deterministically: drip.holdout_share
    expected = db.execute("select array_agg(id order by id) a from drip.contacts "
                          "where drip.holdout_share(id, %s) < 20", (seq,)).fetchone()["a"]
    assert sorted(held) == expected
    dispatch(db)
    dispatch(db, 1.1)
    assert not any(r["contact_id"] in held for r in outbox(db))
    assert len(outbox(db)) == 2 * (1000 - len(held))
    assert {r["status"] for r in enrollments(db)} == {"completed"}    # they went through the steps too
    report = {r["step_order"]: r["held_out"] for r in db.execute(
        "select step_order, held_out from drip.step_report where sequence_id = %s", (seq,)).fetchall()}
    assert report == {1: len(held), 2: len(held)}


def test_goals_exit_held_out_contacts_and_conversion_counts_both_groups(db):
    seq = add_sequence(db, "after_purchase", None, steps=[(0, "one", "<p>1</p>"), (24, "two", "<p>2</p>")])
    db.execute("update drip.sequences set holdout_percent = 50, exit_trigger_type = 'tag_added', "
               "exit_trigger_value = 'customer' where id = %s", (seq,))
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 400) g")
    enroll_all(db)
    dispatch(db)
    db.execute("insert into drip.tags (name) values ('customer')")
    db.execute("insert into drip.contact_tags select c.id, t.id from drip.contacts c, drip.tags t where c.id % 4 = 0")
    row = db.execute("select * from drip.sequence_conversion where sequence_id = %s", (seq,)).fetchone()
    counts = db.execute("select count(*) filter (where not holdout) m, count(*) filter (where holdout) h, "
                        "count(*) filter (where not holdout and status = 'exited') me, "
                        "count(*) filter (where holdout and status = 'exited') he from drip.enrollments").fetchone()
    assert (row["mailed"], row["holdout"], row["mailed_exited"], row["holdout_exited"]) == (
        counts["m"], counts["h"], counts["me"], counts["he"])
    assert row["mailed_exited"] > 0 and row["holdout_exited"] > 0
    assert row["mailed_exited"] + row["holdout_exited"] == 100


@pytest.mark.parametrize(("column", "value", "field"), [
    ("weight", "0", "weight"), ("subject", "'two\nlines'", "subject"), ("subject", "'{{Nope}}'", "subject"),
    ("html_body", "''", "html_body"), ("name", "''", "name"), ("step_id", "424242", "step_id"),
])
def test_a_bad_variant_is_refused_naming_the_field(db, column, value, field):
    seq, step = ab_sequence(db, weights=())
    values = {"step_id": str(step), "name": "'B'", "subject": "'s'", "html_body": "'<p>b</p>'", "weight": "1"}
    values[column] = value
    with pytest.raises(psycopg.Error) as caught:
        db.execute(f"insert into drip.step_variants ({', '.join(values)}) values ({', '.join(values.values())})")
    assert error_field(caught.value.diag) == field
    assert seq


def test_holdout_and_control_weight_are_checked(db):
    seq = add_sequence(db, "after_purchase", None)
    for statement, field in (("update drip.sequences set holdout_percent = 51", "holdout_percent"),
                             ("update drip.sequences set holdout_percent = -1", "holdout_percent"),
                             ("update drip.sequence_steps set control_weight = -1", "control_weight")):
        with pytest.raises(psycopg.errors.InvalidParameterValue) as caught:
            db.execute(statement)
        assert error_field(caught.value.diag) == field
    assert seq


def test_clicks_and_unsubscribes_through_the_links_count_for_the_messages_arm(db):
    import re

    db.execute("""select drip.publish_mail_settings('{"public_url": "http://localhost:8080",
                  "secret": "0123456789abcdef0123"}')""")
    seq = add_sequence(db, "after_purchase", None,
                       steps=[(0, "A", '<p><a href="https://example.com/a">a</a></p>')])
    step = db.execute("select id from drip.sequence_steps").fetchone()["id"]
    db.execute("insert into drip.step_variants (step_id, name, subject, html_body) "
               "values (%s, 'B', 'B', '<p><a href=\"https://example.com/b\">b</a></p>')", (step,))
    variant = db.execute("select id from drip.step_variants").fetchone()["id"]
    db.execute("insert into drip.contacts (email) select 'u' || g || '@example.com' from generate_series(1, 40) g")
    enroll_all(db)
    dispatch(db)
    db.execute("update drip.outbox set status = 'sent', sent_at = now() - interval '1 minute'")
    rows = outbox(db)
    for row in rows:  # every contact clicks its message's link, as a person
        token = re.search(r"/c/([A-Za-z0-9_-]{58})", row["text_body"]).group(1)
        url = db.execute("select drip.record_click(%s, 'GET', '192.0.2.1', 'Mozilla/5.0 (X11; Linux) Firefox/120') u",
                         (token,)).fetchone()["u"]
        assert url == ("https://example.com/b" if row["variant_id"] else "https://example.com/a")
    b_rows = [r for r in rows if r["variant_id"] == variant]
    unsubscribe = b_rows[0]["list_unsubscribe"].split("/u/")[1].split(">")[0]
    db.execute("select drip.unsubscribe_by_token(%s)", (unsubscribe,))
    report = {r["variant_id"]: r for r in db.execute("select * from drip.variant_report").fetchall()}
    assert report[variant]["unique_clickers"] == report[variant]["sent"] == len(b_rows)
    assert report[None]["unique_clickers"] == report[None]["sent"] == 40 - len(b_rows)
    assert (report[variant]["unsubscribes"], report[None]["unsubscribes"]) == (1, 0)
    assert seq
