"""Behaviour 5: merge tags, fallbacks, escaping, one-line subjects, refusal at save."""

import psycopg
import pytest

from tests.helpers import add_contact, add_sequence, dispatch, error_field, not_on_citus, outbox, trigger_disabled


def render(db, first, last, email, subject, body):
    add_sequence(db, "after_purchase", None, steps=[(0, subject, body)])
    c = add_contact(db, email, first, last_name=last)
    db.execute("select drip.fire_trigger('after_purchase', %s)", (c,))
    dispatch(db)
    [row] = outbox(db)
    return row["subject"], row["html_body"]


def test_values_and_fallbacks(db):
    subject, body = render(db, "Ada", None, "ada@example.com",
                           "Hi {{FirstName}} {{LastName|Doe}}", "<p>{{ FirstName | there }} <{{Email}}></p>")
    assert subject == "Hi Ada Doe"
    assert body == "<p>Ada <ada@example.com></p>"


def test_empty_value_uses_fallback_or_nothing(db):
    subject, body = render(db, "  ", None, "b@example.com", "Hi {{FirstName|there}}!", "<p>[{{LastName}}]</p>")
    assert subject == "Hi there!"
    assert body == "<p>[]</p>"


def test_values_are_html_escaped_in_the_body_only(db):
    subject, body = render(db, "<b>Bo & 'Co\"\\1</b>", None, "b@example.com", "{{FirstName}}", "<p>{{FirstName}}</p>")
    assert body == "<p>&lt;b&gt;Bo &amp; &#39;Co&quot;\\1&lt;/b&gt;</p>"
    assert subject == "<b>Bo & 'Co\"\\1</b>"


@not_on_citus(reason='Citus cannot disable a trigger of a distributed table')
def test_subject_never_contains_a_line_break_even_from_a_row_that_skipped_validation(db):
    with trigger_disabled(db, "contacts", "contacts__validate"):
        subject, _ = render(db, "Eve\r\nBcc: victim@example.com", None, "e@example.com", "Hi {{FirstName}}", "b")
    assert subject == "Hi Eve  Bcc: victim@example.com"  # CR and LF each became a space


def test_subject_renderer_strips_line_breaks_from_values(db):
    got = db.execute(
        "select drip.render_subject('Hi {{FirstName}}', E'Eve\\r\\nBcc: v@example.com', null, 'e@x.io') as s"
    ).fetchone()["s"]
    assert got == "Hi Eve  Bcc: v@example.com"


@pytest.mark.parametrize("field,text", [
    ("subject", "Hi {{Firstname2}}"),
    ("html_body", "<p>{{Company}}</p>"),
    ("html_body", "<p>{{FirstName</p>"),
    ("subject", "{{}}"),
])
def test_unknown_merge_tag_refused_at_save(db, field, text):
    seq = add_sequence(db, "after_purchase", None)
    values = {"subject": "s", "html_body": "b", field: text}
    with pytest.raises(psycopg.errors.InvalidParameterValue) as err:
        db.execute(
            "insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
            "values (%s, 2, %s, %s)", (seq, values["subject"], values["html_body"]))
    assert error_field(err.value.diag) == field
    assert db.execute("select count(*) n from drip.sequence_steps").fetchone()["n"] == 1


@not_on_citus(reason='Citus cannot disable a trigger of a distributed table')
def test_a_value_is_never_read_as_a_tag(db):
    with trigger_disabled(db, "contacts", "contacts__validate"):
        subject, body = render(db, "{{Email}}", "{{LastName}}", "secret@example.com", "{{FirstName}}",
                               "<p>{{FirstName}} {{LastName}}</p>")
    assert "secret@example.com" not in subject + body


def test_preview_renders_exactly_what_dispatch_queues(db):
    templates = ["Hi {{FirstName}}", "Hi {{ firstname | you }} {{LastName}}", "{{Email}} & {{Email|x}}", "plain"]
    seq = add_sequence(db, "after_purchase", None, steps=[(0, t, f"<p>{t}</p>") for t in templates])
    c = add_contact(db, "o'hara@example.com", "Ann & <Bo>", last_name=" ")
    db.execute("select drip.fire_trigger('after_purchase', %s)", (c,))
    for i in range(len(templates)):
        dispatch(db, i * 0.01)
    queued = {(o["subject"], o["html_body"]) for o in outbox(db)}
    previews = {(p["subject"], p["html_body"]) for p in db.execute(
        "select p.* from drip.sequence_steps st, drip.preview_step(st.id, %s) p where st.sequence_id = %s",
        (c, seq)).fetchall()}
    assert len(queued) == len(templates) and queued == previews
    assert ("Hi Ann & <Bo>", "<p>Hi Ann &amp; &lt;Bo&gt;</p>") in queued
    assert ("Hi Ann & <Bo> ", "<p>Hi Ann &amp; &lt;Bo&gt; </p>") not in queued


def test_preview_renders_the_arm_and_the_fields_dispatch_queues(db):
    """Behaviours 18 and 25: a step with variants and {{attribute.X}} / {{event.X}} tags previews,
    for each contact, the very message dispatch queues for it."""
    import json

    seq = add_sequence(db, "event", "cart_abandoned", steps=[(
        0, "Cart {{event.cart_id|?}} for {{attribute.plan|free}}",
        '<p>Total {{event.total}} <a href="https://shop.example.com/c/{{event.cart_id}}">back</a></p>')])
    step = db.execute("select id from drip.sequence_steps where sequence_id = %s", (seq,)).fetchone()["id"]
    db.execute("insert into drip.step_variants (step_id, name, subject, html_body) values "
               "(%s, 'B', 'B: {{event.cart_id}} {{FirstName|you}}', '<p>B {{attribute.plan}}</p>')", (step,))
    contacts = [add_contact(db, f"u{i}@example.com", f"N{i}", attributes=json.dumps({"plan": f"p{i}"}))
                for i in range(12)]
    for i, contact in enumerate(contacts):
        db.execute("insert into drip.events (contact_id, name, key, payload) values (%s, 'cart_abandoned', %s, %s)",
                   (contact, f"k{i}", json.dumps({"cart_id": f"c{i}", "total": i + 0.5})))
    dispatch(db)
    queued = {o["contact_id"]: (o["subject"], o["html_body"], o["text_body"]) for o in outbox(db)}
    previews = {c: tuple(db.execute("select subject, html_body, text_body from drip.preview_step(%s, %s)",
                                    (step, c)).fetchone().values()) for c in contacts}
    assert previews == queued
    assert {s.split(":")[0] for s, _, _ in queued.values()} >= {"B"}        # both arms are there
    assert any(s.startswith("Cart c") for s, _, _ in queued.values())
