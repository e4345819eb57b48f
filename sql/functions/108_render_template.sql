-- drip.render_template(p_template text, p_forms text[], p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Puts a contact's values into a template whose tags p_forms describes (drip.merge_forms): per
-- tag, nothing to do, a plain replace() of its one written form (the value, else its fallback),
-- or, when a template writes one tag several ways, the regular expression. Three nested stages
-- (FirstName, LastName, Email), each evaluated once. No SET clause, so the planner inlines it
-- into the dispatcher's query; a SQL-standard body binds every name when it is created.
create or replace function drip.render_template(
    p_template text, p_forms text[], p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
return case when p_forms[5] OPERATOR(pg_catalog.=) '' then (case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[5] is not null
            then pg_catalog.replace((case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[5], coalesce(drip.merge_value(p_email, p_html), p_forms[6], ''))
        else pg_catalog.regexp_replace((case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*Email\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_email, p_html), '\', '\\'), '\1'), 'gi') end;
