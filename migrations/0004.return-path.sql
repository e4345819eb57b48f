-- Second release, the return path (issue 12): tracked links, clicks, bot detection,
-- one-click unsubscribe. The same edits are in sql/schema; tests/migration proves the two agree.

-- drip.link_template(p_html text, out marked text, out hrefs text[])
-- A body's trackable links: every <a> whose href is an absolute http(s) URL and that does not
-- carry data-pgdrip-notrack. `hrefs` holds their href values as written (merge tags and HTML
-- escapes included), in order; `marked` is the body with the k-th of them replaced by a
-- marker, chr(1) || k || chr(1), that drip.render_links swaps for the tracked link. mailto:,
-- tel:, anchors and relative links stay as they are. Immutable: steps keep the result in
-- generated columns, so the body is parsed once per save, not once per message.
create function drip.link_template(p_html text, out marked text, out hrefs text[])
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_tag_pattern constant text := '<a\s[^>]*>';
    v_pos integer := 1;
    v_start integer;
    v_tag text;
    v_href text[];
    v_value text;
    v_count integer := 0;
begin
    marked := '';
    hrefs := '{}';
    if p_html is null then
        marked := null;
        return;
    end if;
    loop
        v_start := regexp_instr(p_html, v_tag_pattern, v_pos, 1, 0, 'i');
        exit when v_start = 0;
        v_tag := regexp_substr(p_html, v_tag_pattern, v_pos, 1, 'i');
        marked := marked || substr(p_html, v_pos, v_start - v_pos);
        v_pos := v_start + length(v_tag);
        v_href := regexp_match(v_tag, '\shref\s*=\s*("([^"]*)"|''([^'']*)''|([^\s>"'']+))', 'i');
        v_value := coalesce(v_href[2], v_href[3], v_href[4]);
        if v_value ~* '^\s*https?://' and v_tag !~* '\sdata-pgdrip-notrack\M' then
            v_count := v_count + 1;
            hrefs := hrefs || btrim(v_value);
            v_tag := regexp_replace(v_tag, '(\shref\s*=\s*)("[^"]*"|''[^'']*''|[^\s>"'']+)',
                                    '\1"' || chr(1) || v_count || chr(1) || '"', 'i');
        end if;
        marked := marked || v_tag;
    end loop;
    marked := marked || substr(p_html, v_pos);
end
$$;

alter table drip.sequence_steps
    add column tracked_html text not null generated always as ((drip.link_template(html_body)).marked) stored,
    add column tracked_merge text[] not null
        generated always as (drip.merge_forms((drip.link_template(html_body)).marked)) stored,
    add column tracked_text text not null
        generated always as (drip.html_to_text((drip.link_template(html_body)).marked)) stored,
    add column tracked_text_merge text[] not null
        generated always as (drip.merge_forms(drip.html_to_text((drip.link_template(html_body)).marked))) stored,
    add column link_hrefs text[] not null generated always as ((drip.link_template(html_body)).hrefs) stored;

alter table drip.mail_settings
    add column public_url text,
    add column link_key bytea[],
    add column unsubscribe_mailto text,
    add column sender_domain text;

alter table drip.outbox add column list_id text, add column links text[];

alter table drip.link_clicks add column step_id bigint;

-- table drip.clicks
-- Every request of a tracked link (`pgdrip serve`): which message and link, when, from where,
-- and whether it was judged a bot (bot_reason) or a person. A person's first click in a message
-- is also written to drip.link_clicks, which fires after_first_click.
create table drip.clicks (
    id bigint generated always as identity primary key,
    contact_id bigint not null,
    enrollment_id bigint not null,
    step_id bigint not null,
    -- 1..n: the message's links in order; 0: the honeypot no person sees
    link_no integer not null,
    url text,
    clicked_at timestamptz not null default now(),
    ip inet,
    user_agent text,
    method text not null,
    -- NULL: a person
    bot_reason text
);
create index clicks_message on drip.clicks (contact_id, enrollment_id, step_id, clicked_at);

-- table drip.bot_user_agents
-- User agents of link scanners (case-insensitive regular expressions): a tracked-link request
-- whose user agent matches one is a bot click. Operators add and remove rows as they see fit;
-- `pgdrip migrate` never touches them after the first install.
create table drip.bot_user_agents (
    pattern text primary key,
    note text
);
insert into drip.bot_user_agents (pattern, note) values
    ('safe ?links', 'Microsoft Defender for Office 365 Safe Links'),
    ('mimecast', 'Mimecast URL Protect'),
    ('proofpoint|urldefense', 'Proofpoint URL Defense'),
    ('barracuda', 'Barracuda Link Protection'),
    ('bingpreview', 'Bing link previews (Outlook)'),
    ('symantec|messagelabs|broadcom', 'Symantec / Broadcom email security'),
    ('trend ?micro', 'Trend Micro'),
    ('forcepoint|websense', 'Forcepoint'),
    ('appriver|zix', 'AppRiver / Zix'),
    ('sophos', 'Sophos'),
    ('fireeye|trellix', 'FireEye / Trellix'),
    ('cisco|ironport', 'Cisco Secure Email'),
    ('googlebot|adsbot|mediapartners', 'Google crawlers'),
    ('slackbot|facebookexternalhit|twitterbot|linkedinbot|discordbot|whatsapp|telegrambot', 'link unfurlers');

-- table drip.unsubscribes
-- Each time a contact unsubscribed through pgdrip (`pgdrip serve`'s one-click link), and which
-- message's link it was: the step report's unsubscribes, and the admin page's history.
create table drip.unsubscribes (
    contact_id bigint not null,
    enrollment_id bigint,
    step_id bigint,
    unsubscribed_at timestamptz not null default now(),
    via text not null
);
create index unsubscribes_contact on drip.unsubscribes (contact_id);

-- signatures that changed (their new versions are in sql/functions)
drop function if exists drip.publish_mail_settings(jsonb, text);
