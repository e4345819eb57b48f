-- drip.render_template(p_template text, p_flags integer, p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Puts a contact's values into a template whose tag usage p_flags describes (drip.merge_flags):
-- per tag, nothing to do, a plain replace() of {{Tag}}, or the regular expression that also
-- handles fallbacks ({{FirstName|there}}), spaces and case. Three nested stages (FirstName, then
-- LastName, then Email); each runs once. No SET clause, so the planner inlines it into the
-- dispatcher's query; every name, operators included, is schema-qualified instead.
create or replace function drip.render_template(
    p_template text, p_flags integer, p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
return case (p_flags OPERATOR(pg_catalog./) 16) OPERATOR(pg_catalog.%) 4
        when 0 then (case (p_flags OPERATOR(pg_catalog./) 4) OPERATOR(pg_catalog.%) 4
        when 0 then (case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when 1 then pg_catalog.replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '{{LastName}}', coalesce(drip.merge_value(p_last_name, p_html), ''))
        else pg_catalog.regexp_replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when 1 then pg_catalog.replace((case (p_flags OPERATOR(pg_catalog./) 4) OPERATOR(pg_catalog.%) 4
        when 0 then (case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when 1 then pg_catalog.replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '{{LastName}}', coalesce(drip.merge_value(p_last_name, p_html), ''))
        else pg_catalog.regexp_replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), '{{Email}}', coalesce(drip.merge_value(p_email, p_html), ''))
        else pg_catalog.regexp_replace((case (p_flags OPERATOR(pg_catalog./) 4) OPERATOR(pg_catalog.%) 4
        when 0 then (case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when 1 then pg_catalog.replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '{{LastName}}', coalesce(drip.merge_value(p_last_name, p_html), ''))
        else pg_catalog.regexp_replace((case (p_flags OPERATOR(pg_catalog./) 1) OPERATOR(pg_catalog.%) 4
        when 0 then p_template
        when 1 then pg_catalog.replace(p_template, '{{FirstName}}', coalesce(drip.merge_value(p_first_name, p_html), ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*Email\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_email, p_html), '\', '\\'), '\1'), 'gi') end;
