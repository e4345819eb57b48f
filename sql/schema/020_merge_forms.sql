-- drip.merge_forms(p_text text) returns text[]
-- How a template writes each merge tag, as six elements: for FirstName, LastName and Email in
-- turn, the tag's one written form and its fallback (e.g. '{{FirstName|there}}', 'there').
-- The form is '' when the tag is absent and NULL when it is written in several ways. Stored
-- per step, so rendering is a plain replace() unless a template mixes forms of one tag.
create function drip.merge_forms(p_text text) returns text[]
language sql immutable parallel safe
set search_path = ''
as $$
    select array_agg(v.x order by v.k)
    from unnest(array['FirstName', 'LastName', 'Email']) with ordinality as t (tag, n)
    cross join lateral (
        select count(distinct m[1]) as forms, min(m[1]) as form, min(m[2]) as fallback
        from regexp_matches(p_text, '(\{\{\s*' || t.tag || '\s*(?:\|\s*([^}]*?)\s*)?\}\})', 'gi') as m
    ) f
    cross join lateral (values
        (t.n * 2 - 1, case f.forms when 0 then '' when 1 then f.form end),
        (t.n * 2, case f.forms when 1 then f.fallback end)
    ) as v (k, x)
$$;
