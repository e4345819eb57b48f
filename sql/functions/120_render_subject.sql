-- drip.render_subject(p_template text, p_first_name text, p_last_name text, p_email text) returns text
-- Renders a subject: values unescaped, line breaks in values turned into spaces (the template
-- itself is refused with any at save), so a subject can never carry a second header.
create or replace function drip.render_subject(
    p_template text, p_first_name text, p_last_name text, p_email text
) returns text
language sql immutable parallel safe
return pg_catalog.btrim(drip.render_merge(p_template, p_first_name, p_last_name, p_email, false));
