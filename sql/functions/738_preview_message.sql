-- drip.preview_message(p_subject text, p_html_body text, p_contact_id bigint, p_step_id bigint default 0) returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
-- The message a subject and body (saved or not) would send to a contact, rendered by the
-- dispatcher's functions from the same forms a step keeps in its generated columns
-- (drip.merge_forms, drip.link_template, drip.html_to_text), with drip.mail_settings' branding,
-- unsubscribe link and tracked links. drip.preview_step calls it with a saved step, so a preview
-- and the queued message never differ; the admin pages call it with what is being typed. A NULL
-- contact renders for an example person (Ada Lovelace, ada@example.com). Its links do nothing,
-- whoever sees it (a preview gets forwarded): tracked links are PUBLIC_URL/c/preview, the
-- unsubscribe link PUBLIC_URL/u/preview (or the PGDRIP_UNSUBSCRIBE_URL template with contact 0
-- and the token 'preview'), none of which any server accepts as a token.
create or replace function drip.preview_message(p_subject text, p_html_body text, p_contact_id bigint,
                                                p_step_id bigint default 0)
returns table (to_address text, subject text, html_body text, text_body text, list_unsubscribe text)
language plpgsql stable
set search_path = ''
as $$
begin
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
        select c.id, c.email, c.first_name, c.last_name from drip.contacts c where c.id = p_contact_id
        union all
        select 0, 'ada@example.com', 'Ada', 'Lovelace' where p_contact_id is null
    )
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
    from st, c, drip.mail_settings m
    cross join lateral (values (coalesce(
        replace(replace(m.unsubscribe_url, '{contact_id}', '0'), '{token}', 'preview'),
        m.public_url || '/u/preview'))) as u (link)
    left join lateral (
        select drip.render_links(
                   drip.render_template(st.tracked_html, st.tracked_merge, c.first_name, c.last_name, c.email, true),
                   drip.render_template(st.tracked_text, st.tracked_text_merge, c.first_name, c.last_name, c.email,
                                        false),
                   st.link_hrefs, c.first_name, c.last_name, c.email, c.id, 0, st.id, m.public_url, null) as r
        where m.public_url is not null
        offset 0
    ) t on true;
end
$$;
