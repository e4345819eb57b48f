-- drip.render_merge(p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Replaces {{FirstName}}, {{LastName}}, {{Email}} (with an optional |fallback) by the
-- contact's values; HTML-escaped when p_html. One SQL expression so the planner inlines it.
create or replace function drip.render_merge(
    p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
set search_path = ''
as $$
select case when strpos(p_template, '{{') = 0 then p_template else
  regexp_replace(regexp_replace(regexp_replace(p_template,
    '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
    coalesce(replace(case when p_html then drip.html_escape(nullif(btrim(p_first_name), ''))
                          else nullif(btrim(p_first_name), '') end, '\', '\\'), '\1'), 'gi'),
    '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
    coalesce(replace(case when p_html then drip.html_escape(nullif(btrim(p_last_name), ''))
                          else nullif(btrim(p_last_name), '') end, '\', '\\'), '\1'), 'gi'),
    '\{\{\s*Email\s*(?:\|\s*([^}]*?)\s*)?\}\}',
    coalesce(replace(case when p_html then drip.html_escape(nullif(btrim(p_email), ''))
                          else nullif(btrim(p_email), '') end, '\', '\\'), '\1'), 'gi')
end
$$;
