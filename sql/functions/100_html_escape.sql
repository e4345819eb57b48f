-- drip.html_escape(p_text text) returns text
-- Escapes the five HTML-special characters, so a merge value is text, never markup.
-- No SET clause so that it inlines into the dispatcher; every name is qualified instead.
create or replace function drip.html_escape(p_text text) returns text
language sql immutable parallel safe
return pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(p_text,
    '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
