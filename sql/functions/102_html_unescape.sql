-- drip.html_unescape(p_text text) returns text
-- An attribute value as the browser reads it: the escapes drip.html_escape writes, and &#x27;
-- and &apos;, undone (so a tracked link redirects to the URL the reader would have followed).
-- Inlinable.
create or replace function drip.html_unescape(p_text text) returns text
language sql immutable parallel safe
return pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
       pg_catalog.replace(pg_catalog.replace(p_text, '&quot;', '"'), '&#39;', ''''), '&#x27;', ''''), '&apos;', ''''),
       '&lt;', '<'), '&gt;', '>'), '&amp;', '&');
