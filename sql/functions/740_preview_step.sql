-- drip.preview_step(p_step_id bigint, p_contact_id bigint) returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
-- The message a step would send to a contact: drip.preview_message with the step's saved
-- subject and body, which renders them with the dispatcher's functions (drip.render_template,
-- drip.render_links, drip.compose_html / compose_text with drip.mail_settings), so a preview and
-- the queued message never differ, but for its links: a preview's links do nothing (see
-- drip.preview_message), so a forwarded preview cannot unsubscribe the contact it was made for.
-- A step with variants shows the arm that contact gets (drip.step_arm).
create or replace function drip.preview_step(p_step_id bigint, p_contact_id bigint)
returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
language plpgsql stable
set search_path = ''
as $$
begin
    if not exists (select 1 from drip.sequence_steps st where st.id = p_step_id) then
        raise exception 'step % does not exist', coalesce(p_step_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_step_id', detail = 'field: p_step_id',
                  hint = 'See the step ids with: pgdrip sequences show ID';
    end if;
    if p_contact_id is null or not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    -- the arm this contact gets (behaviour 25): a variant's content, else the step's own
    return query
    select p.* from drip.sequence_steps st
    left join drip.step_variants v on v.id = drip.step_arm(st.id, p_contact_id)
    cross join lateral drip.preview_message(coalesce(v.subject, st.subject), coalesce(v.html_body, st.html_body),
                                            p_contact_id, st.id) p
    where st.id = p_step_id;
end
$$;
