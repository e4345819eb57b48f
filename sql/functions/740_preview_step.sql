-- drip.preview_step(p_step_id bigint, p_contact_id bigint) returns table (to_address text, subject text, html_body text)
-- The message a step would send to a contact, rendered exactly as the dispatcher does.
create or replace function drip.preview_step(p_step_id bigint, p_contact_id bigint)
returns table (to_address text, subject text, html_body text)
language plpgsql stable
set search_path = ''
as $$
begin
    if not exists (select 1 from drip.sequence_steps st where st.id = p_step_id) then
        raise exception 'step % does not exist', coalesce(p_step_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_step_id', detail = 'field: p_step_id',
                  hint = 'See the step ids with: pgdrip sequences show ID';
    end if;
    if not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    return query
    select c.email,
           drip.render_subject(st.subject, c.first_name, c.last_name, c.email),
           drip.render_merge(st.html_body, c.first_name, c.last_name, c.email, true)
    from drip.sequence_steps st, drip.contacts c
    where st.id = p_step_id and c.id = p_contact_id;
end
$$;
