-- drip.preview_message(p_subject text, p_html_body text, p_contact_id bigint, p_step_id bigint default 0) returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
-- The message a subject and body (saved or not) would send to a contact, rendered by the
-- dispatcher's functions from the same forms a step keeps in its generated columns
-- (drip.merge_forms, drip.link_template, drip.html_to_text), with drip.mail_settings' branding,
-- unsubscribe link and tracked links. drip.preview_step calls it with a saved step, so a preview
-- and the queued message never differ; the admin pages call it with what is being typed. A NULL
-- contact renders for an example person (Ada Lovelace, ada@example.com). Its links do nothing,
-- whoever sees it (a preview gets forwarded): tracked links are PUBLIC_URL/c/preview, the
-- unsubscribe link PUBLIC_URL/u/preview (or the PGDRIP_UNSUBSCRIBE_URL template with contact 0
-- and the token 'preview'), none of which any server accepts as a token. {{attribute.X}} tags
-- read the contact's attributes, {{event.X}} tags the payload of the event that enrolled the
-- contact in the step's sequence (its latest such enrollment); a transactional sequence's mail
-- has no unsubscribe link (behaviours 18, 23).
create or replace function drip.preview_message(p_subject text, p_html_body text, p_contact_id bigint,
                                                p_step_id bigint default 0)
returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
language plpgsql stable
set search_path = ''
as $$
declare
    v_payload jsonb;
    v_transactional boolean;
begin
    select s.message_class = 'transactional' into v_transactional
    from drip.sequence_steps st join drip.sequences s on s.id = st.sequence_id where st.id = p_step_id;
    select ev.payload into v_payload
    from drip.sequence_steps st
    join drip.enrollments e on e.sequence_id = st.sequence_id and e.contact_id = p_contact_id
    join drip.events ev on ev.id = e.event_id and ev.contact_id = e.contact_id
    where st.id = p_step_id
    order by e.enrolled_at desc, e.id desc
    limit 1;
    if p_contact_id is not null and not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', p_contact_id
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    perform drip.check_merge_tags(p_subject, 'subject');
    perform drip.check_merge_tags(p_html_body, 'html_body');
    return query
    with st as (
        select p_subject as subject, drip.merge_forms(p_subject) as subject_merge,
               p_html_body as html_body, drip.merge_forms(p_html_body) as body_merge,
               drip.html_to_text(p_html_body) as text_body, drip.merge_forms(drip.html_to_text(p_html_body)) as text_merge,
               (drip.link_template(p_html_body)).marked as tracked_html,
               drip.merge_forms((drip.link_template(p_html_body)).marked) as tracked_merge,
               drip.html_to_text((drip.link_template(p_html_body)).marked) as tracked_text,
               drip.merge_forms(drip.html_to_text((drip.link_template(p_html_body)).marked)) as tracked_text_merge,
               (drip.link_template(p_html_body)).hrefs as link_hrefs,
               coalesce(p_step_id, 0) as id
    ), c as (
        select c.id, c.email, c.first_name, c.last_name, c.attributes from drip.contacts c where c.id = p_contact_id
        union all
        select 0, 'ada@example.com', 'Ada', 'Lovelace', '{}'::jsonb where p_contact_id is null
    ), f as (
        -- the field tags first, on each derived template, as the dispatcher does
        select drip.render_fields(st.subject, c.attributes, v_payload, false) as subject,
               drip.render_fields(st.html_body, c.attributes, v_payload, true) as html_body,
               drip.render_fields(st.text_body, c.attributes, v_payload, false) as text_body,
               drip.render_fields(st.tracked_html, c.attributes, v_payload, true) as tracked_html,
               drip.render_fields(st.tracked_text, c.attributes, v_payload, false) as tracked_text,
               array(select drip.render_fields(h.href, c.attributes, v_payload, true)
                     from unnest(st.link_hrefs) with ordinality as h (href, n) order by h.n) as link_hrefs
        from st, c
    )
    select c.email,
           pg_catalog.btrim(drip.render_template(f.subject, st.subject_merge, c.first_name, c.last_name, c.email,
                                                 false)),
           drip.compose_html(coalesce((t.r).html,
                                      drip.render_template(f.html_body, st.body_merge, c.first_name, c.last_name,
                                                           c.email, true)), m.brand_header, m.brand_footer, u.link),
           drip.compose_text(coalesce((t.r).text_part,
                                      drip.render_template(f.text_body, st.text_merge, c.first_name, c.last_name,
                                                           c.email, false)),
                             case when m.brand_header = '' then '' else drip.html_to_text(m.brand_header) || E'\n' end,
                             case when m.brand_footer = '' then '' else E'\n' || drip.html_to_text(m.brand_footer) end,
                             u.link),
           '<' || u.link || '>' || coalesce(', <mailto:' || m.unsubscribe_mailto || '?subject=unsubscribe>', '')
    from st, c, f, drip.mail_settings m
    cross join lateral (values (case when not coalesce(v_transactional, false) then coalesce(
        replace(replace(m.unsubscribe_url, '{contact_id}', '0'), '{token}', 'preview'),
        m.public_url || '/u/preview') end)) as u (link)
    left join lateral (
        select drip.render_links(
                   drip.render_template(f.tracked_html, st.tracked_merge, c.first_name, c.last_name, c.email, true),
                   drip.render_template(f.tracked_text, st.tracked_text_merge, c.first_name, c.last_name, c.email,
                                        false),
                   f.link_hrefs, c.first_name, c.last_name, c.email, c.id, 0, st.id, m.public_url, null) as r
        where m.public_url is not null
        offset 0
    ) t on true;
end
$$;
