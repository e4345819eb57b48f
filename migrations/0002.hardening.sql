-- Second release, hardening (issue 10): bounces, step identity, the text part rendered by the
-- database, the mail settings the dispatcher renders with, and the shared send-rate bucket.
-- The same edits are in sql/schema; tests/migration proves the two agree.

-- drip.html_to_text(p_html text) returns text
-- The plain-text part of a message, derived from its HTML: block tags become line breaks, a link
-- becomes "text (url)", other tags go, entities are decoded (numeric ones and the common named
-- ones). Immutable, so steps keep their text template in a generated column and every message's
-- text part is rendered by the database beside its HTML.
create function drip.html_to_text(p_html text) returns text
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v text := p_html;
    v_match text[];
    v_code integer;
    v_named constant text[] := array[
        'nbsp', ' ', 'quot', '"', 'apos', '''', 'lt', '<', 'gt', '>',
        'copy', '©', 'reg', '®', 'trade', '™', 'hellip', '…', 'mdash', '—', 'ndash', '–',
        'lsquo', '‘', 'rsquo', '’', 'ldquo', '“', 'rdquo', '”', 'laquo', '«', 'raquo', '»',
        'euro', '€', 'pound', '£', 'middot', '·', 'bull', '•', 'deg', '°', 'times', '×',
        'eacute', 'é', 'egrave', 'è', 'agrave', 'à', 'aacute', 'á', 'ouml', 'ö', 'uuml', 'ü',
        'auml', 'ä', 'szlig', 'ß', 'ccedil', 'ç', 'ntilde', 'ñ'];
begin
    if v is null then
        return null;
    end if;
    v := regexp_replace(v, '<!--.*?-->', '', 'g');
    -- one tag at a time: a back-reference would make the pattern greedy in PostgreSQL
    v := regexp_replace(v, '<script\M[^>]*?>.*?</script\s*>', '', 'gis');
    v := regexp_replace(v, '<style\M[^>]*?>.*?</style\s*>', '', 'gis');
    v := regexp_replace(v, '<head\M[^>]*?>.*?</head\s*>', '', 'gis');
    -- a link: its text, then its target in parentheses (unless the text is the target)
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*"([^"]*)"[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*''([^'']*)''[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<a\s[^>]*?\mhref\s*=\s*([^\s>"'']+)[^>]*>(.*?)</a\s*>', '\2 (\1)', 'gis');
    v := regexp_replace(v, '<br\s*/?>', E'\n', 'gi');
    v := regexp_replace(v, '</?(p|div|li|tr|h[1-6]|table|ul|ol|blockquote|section|header|footer)\M[^>]*>',
                        E'\n', 'gi');
    v := regexp_replace(v, '<[^>]*>', '', 'g');
    -- "go (go)" when the text was the target itself
    v := regexp_replace(v, '(\S+) \(\1\)', '\1', 'g');
    -- entities last, so that an escaped "&lt;b&gt;" stays text
    loop
        v_match := regexp_match(v, '&#(x[0-9a-f]{1,6}|[0-9]{1,7});', 'i');
        exit when v_match is null;
        v_code := case when v_match[1] ilike 'x%'
                       then ('x' || lpad(substr(v_match[1], 2), 8, '0'))::bit(32)::integer
                       else v_match[1]::integer end;
        v := replace(v, '&#' || v_match[1] || ';',
                     case when v_code between 1 and 1114111 and v_code not between 55296 and 57343
                          then chr(v_code) else chr(65533) end);
    end loop;
    for i in 1 .. array_length(v_named, 1) by 2 loop
        v := replace(v, '&' || v_named[i] || ';', v_named[i + 1]);
    end loop;
    v := replace(v, '&amp;', '&');
    v := regexp_replace(v, '[ \t\r]+', ' ', 'g');
    v := regexp_replace(v, ' ?\n ?', E'\n', 'g');
    v := regexp_replace(v, E'\n{3,}', E'\n\n', 'g');
    return btrim(v, E' \n') || E'\n';
end
$$;

alter table drip.contacts add column bounced_at timestamptz;
create index contacts_bounced on drip.contacts (id) where bounced_at is not null;

alter table drip.sequence_steps
    add column key text,
    add column text_body text not null generated always as (drip.html_to_text(html_body)) stored,
    add column text_merge text[] not null generated always as (drip.merge_forms(drip.html_to_text(html_body))) stored;
create unique index sequence_steps_key on drip.sequence_steps (sequence_id, key) where key is not null;

alter table drip.outbox add column text_body text, add column list_unsubscribe text;
-- mail still to be sent gets its text part now; history keeps NULL
update drip.outbox set text_body = drip.html_to_text(html_body) where status in ('queued', 'sending');

-- table drip.mail_settings
-- What the dispatcher renders around every message body: branding and the unsubscribe link.
-- One row, written by drip.publish_mail_settings when a runner starts (from its PGDRIP_*
-- settings), read by the dispatcher and by drip.preview_step, so that a preview and the sent
-- message are rendered in one place. Holds HMAC keys: no role but the runner's may read it.
create table drip.mail_settings (
    singleton boolean primary key default true constraint mail_settings_singleton check (singleton),
    brand_header text not null default '',
    brand_footer text not null default '',
    -- a URL template with {contact_id} and {token}, served by the user (PGDRIP_UNSUBSCRIBE_URL)
    unsubscribe_url text,
    -- drip.hmac_pads of PGDRIP_UNSUBSCRIBE_SECRET
    unsubscribe_key bytea[],
    published_at timestamptz not null default now(),
    published_by text
);
insert into drip.mail_settings default values;

-- table drip.send_rate
-- The token bucket behind PGDRIP_MAX_RATE, shared by every runner of the database: it holds at
-- most one second's worth of tokens and refills at the rate the takers give (see drip.take_send_tokens).
create table drip.send_rate (
    singleton boolean primary key default true constraint send_rate_singleton check (singleton),
    tokens double precision not null default 0,
    refilled_at timestamptz not null default now()
);
insert into drip.send_rate default values;

-- signatures and names that changed (their new versions are in sql/functions and sql/triggers)
drop function if exists drip.preview_step(bigint, bigint);
drop trigger if exists contacts__unsubscribe on drip.contacts;
drop function if exists drip.tg_contacts__unsubscribe();
