-- drip.compose_html(p_body text, p_header text, p_footer text, p_unsubscribe text) returns text
-- drip.compose_text(p_body text, p_header text, p_footer text, p_unsubscribe text) returns text
-- A rendered body inside the branding, with the visible unsubscribe link when there is one: the
-- HTML part, and the text part (header and footer already turned into text). The dispatcher and
-- drip.preview_step both call these, so the preview is the message. Inlinable; in the
-- dispatcher's generic plan the settings are parameters, so the plain case is tested first and
-- costs a comparison, not a copy of every body.
create or replace function drip.compose_html(p_body text, p_header text, p_footer text, p_unsubscribe text)
returns text
language sql immutable parallel safe
return case
    when p_unsubscribe is null and p_header OPERATOR(pg_catalog.=) '' and p_footer OPERATOR(pg_catalog.=) ''
        then p_body
    else p_header OPERATOR(pg_catalog.||) p_body OPERATOR(pg_catalog.||) p_footer OPERATOR(pg_catalog.||)
         coalesce('<p style="font-size:small">Don''t want these emails? <a href="'
                  OPERATOR(pg_catalog.||) drip.html_escape(p_unsubscribe)
                  OPERATOR(pg_catalog.||) '">Unsubscribe</a>.</p>', '') end;

create or replace function drip.compose_text(p_body text, p_header text, p_footer text, p_unsubscribe text)
returns text
language sql immutable parallel safe
return case
    when p_unsubscribe is null and p_header OPERATOR(pg_catalog.=) '' and p_footer OPERATOR(pg_catalog.=) ''
        then p_body
    else p_header OPERATOR(pg_catalog.||) p_body OPERATOR(pg_catalog.||) p_footer OPERATOR(pg_catalog.||)
         coalesce(E'\nDon''t want these emails? Unsubscribe: ' OPERATOR(pg_catalog.||) p_unsubscribe
                  OPERATOR(pg_catalog.||) E'\n', '') end;
