-- drip.render_subject(p_template text, p_first_name text, p_last_name text, p_email text) returns text
-- Renders a subject: merge values unescaped, every line break and control character
-- turned into a space, so a subject can never carry a second header.
create or replace function drip.render_subject(
    p_template text, p_first_name text, p_last_name text, p_email text
) returns text
language sql immutable parallel safe
set search_path = ''
return btrim(regexp_replace(
    drip.render_merge(p_template, p_first_name, p_last_name, p_email, false),
    '[[:cntrl:]\u2028\u2029]+', ' ', 'g'));
