-- drip.render_merge(p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Renders any template (its tag usage worked out on the spot); the dispatcher uses the usage
-- stored with each step instead. HTML-escapes values when p_html.
create or replace function drip.render_merge(
    p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
return drip.render_template(p_template, drip.merge_forms(p_template), p_first_name, p_last_name, p_email, p_html);
