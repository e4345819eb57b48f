-- drip.preview_step(p_step_id bigint, p_contact_id bigint) returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
-- The message a step would send to a contact, rendered by the same functions as the dispatcher
-- (drip.render_template, drip.render_links, drip.compose_html / compose_text with
-- drip.mail_settings), so a preview and the queued message never differ. The one thing a
-- preview cannot know is the enrollment: its link tokens name enrollment 0 and lead nowhere.
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
    if not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    return query
    select c.email,
           pg_catalog.btrim(drip.render_template(st.subject, st.subject_merge, c.first_name, c.last_name, c.email,
                                                 false)),
           drip.compose_html(coalesce((t.r).html,
                                      drip.render_template(st.html_body, st.body_merge, c.first_name, c.last_name,
                                                           c.email, true)), m.brand_header, m.brand_footer, u.link),
           drip.compose_text(coalesce((t.r).text_part,
                                      drip.render_template(st.text_body, st.text_merge, c.first_name, c.last_name,
                                                           c.email, false)),
                             case when m.brand_header = '' then '' else drip.html_to_text(m.brand_header) || E'\n' end,
                             case when m.brand_footer = '' then '' else E'\n' || drip.html_to_text(m.brand_footer) end,
                             u.link),
           '<' || u.link || '>' || coalesce(', <mailto:' || m.unsubscribe_mailto || '?subject=unsubscribe>', '')
    from drip.sequence_steps st, drip.contacts c, drip.mail_settings m
    cross join lateral (values (coalesce(
        drip.unsubscribe_link(m.unsubscribe_url, m.unsubscribe_key, c.id),
        m.public_url || '/u/' || drip.link_token(m.link_key, 'u', c.id, 0, st.id, 0)))) as u (link)
    left join lateral (
        select drip.render_links(
                   drip.render_template(st.tracked_html, st.tracked_merge, c.first_name, c.last_name, c.email, true),
                   drip.render_template(st.tracked_text, st.tracked_text_merge, c.first_name, c.last_name, c.email,
                                        false),
                   st.link_hrefs, c.first_name, c.last_name, c.email, c.id, 0, st.id, m.public_url, m.link_key) as r
        where m.public_url is not null
        offset 0
    ) t on true
    where st.id = p_step_id and c.id = p_contact_id;
end
$$;
