-- drip.render_links(p_html text, p_text text, p_hrefs text[], p_first_name text, p_last_name text, p_email text, p_contact_id bigint, p_enrollment_id bigint, p_step_id bigint, p_public_url text, p_key bytea[], out html text, out text_part text, out links text[])
-- Tracked links for one message: the k-th link marker of the rendered template (see
-- drip.link_template) becomes PUBLIC_URL/c/TOKEN in the HTML and text parts alike; `links`
-- holds, in order, the URL each one leads to (its href rendered for the contact and unescaped),
-- which is all a redirect may ever go to. A honeypot link that no person sees comes first in the
-- HTML: whatever requests it is a scanner. The dispatcher and drip.preview_step both call this;
-- a preview passes no key (p_key NULL), and its links are PUBLIC_URL/c/preview, which lead nowhere.
create or replace function drip.render_links(
    p_html text, p_text text, p_hrefs text[], p_first_name text, p_last_name text, p_email text,
    p_contact_id bigint, p_enrollment_id bigint, p_step_id bigint, p_public_url text, p_key bytea[],
    out html text, out text_part text, out links text[]
)
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_href text;
    v_url text;
begin
    html := p_html;
    text_part := p_text;
    links := '{}';
    for i in 1 .. coalesce(cardinality(p_hrefs), 0) loop
        v_href := p_hrefs[i];
        if strpos(v_href, '{{') > 0 then
            v_href := drip.render_merge(v_href, p_first_name, p_last_name, p_email, true);
        end if;
        links := links || drip.html_unescape(v_href);
        v_url := p_public_url || '/c/'
                 || coalesce(drip.link_token(p_key, 'c', p_contact_id, p_enrollment_id, p_step_id, i), 'preview');
        html := replace(html, chr(1) || i || chr(1), drip.html_escape(v_url));
        text_part := replace(text_part, chr(1) || i || chr(1), v_url);
    end loop;
    html := '<a href="' || drip.html_escape(p_public_url || '/c/'
                || coalesce(drip.link_token(p_key, 'c', p_contact_id, p_enrollment_id, p_step_id, 0), 'preview'))
            || '" style="display:none" tabindex="-1" aria-hidden="true"></a>' || html;
end
$$;
