-- drip.compose_html(p_body text, p_header text, p_footer text, p_unsubscribe text) returns text
-- drip.compose_text(p_body text, p_header text, p_footer text, p_unsubscribe text) returns text
-- A rendered body inside the branding, with the visible unsubscribe link when there is one: the
-- HTML part, and the text part (header and footer already turned into text). The dispatcher and
-- drip.preview_step both call these, so the preview is the message. Inlinable: each parameter is
-- used once (the planner does not inline a function that would evaluate an expensive argument,
-- such as the rendered body, twice).
create or replace function drip.compose_html(p_body text, p_header text, p_footer text, p_unsubscribe text)
returns text
language sql immutable parallel safe
return p_header OPERATOR(pg_catalog.||) p_body OPERATOR(pg_catalog.||) p_footer OPERATOR(pg_catalog.||)
       coalesce('<p style="font-size:small">Don''t want these emails? <a href="'
                OPERATOR(pg_catalog.||) drip.html_escape(p_unsubscribe)
                OPERATOR(pg_catalog.||) '">Unsubscribe</a>.</p>', '');

create or replace function drip.compose_text(p_body text, p_header text, p_footer text, p_unsubscribe text)
returns text
language sql immutable parallel safe
return p_header OPERATOR(pg_catalog.||) p_body OPERATOR(pg_catalog.||) p_footer OPERATOR(pg_catalog.||)
       coalesce(E'\nDon''t want these emails? Unsubscribe: ' OPERATOR(pg_catalog.||) p_unsubscribe
                OPERATOR(pg_catalog.||) E'\n', '');
