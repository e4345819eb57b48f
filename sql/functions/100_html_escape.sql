-- drip.html_escape(p_text text) returns text
-- Escapes the five HTML-special characters, so a merge value is text, never markup.
create or replace function drip.html_escape(p_text text) returns text
language sql immutable parallel safe
set search_path = ''
return replace(replace(replace(replace(replace(p_text,
    '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');
