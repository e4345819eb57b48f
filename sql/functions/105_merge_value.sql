-- drip.merge_value(p_value text, p_html boolean) returns text
-- A contact's value as it goes into a message: trimmed (NULL when empty, so a fallback applies),
-- '{{' broken up so it is never read as a tag; HTML-escaped for a body, and for a subject every
-- line break or tab turned into a space. Inlinable: no SET clause, every name qualified.
create or replace function drip.merge_value(p_value text, p_html boolean) returns text
language sql immutable parallel safe
return case when p_html
    then drip.html_escape(pg_catalog.replace(nullif(pg_catalog.btrim(p_value), ''), '{{', '{ {'))
    else pg_catalog.translate(pg_catalog.replace(nullif(pg_catalog.btrim(p_value), ''), '{{', '{ {'),
                              E'\r\n\t\x0b\x0c\u2028\u2029', '       ') end;
