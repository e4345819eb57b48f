-- Third round of trust (issue 18): links that keep working. The same edits are in sql/schema;
-- tests/migration proves the two agree.

-- table drip.clicks: the request that recorded a click, so a retried request records it once
alter table drip.clicks add column request_id uuid;

-- table drip.sent_links: where the tracked links of pruned mail lead
create table drip.sent_links (
    contact_id bigint not null,
    enrollment_id bigint not null,
    step_id bigint not null,
    links text[] not null,
    sent_at timestamptz not null,
    primary key (contact_id, enrollment_id, step_id)
);

-- table drip.bot_user_agents: HTTP libraries, Office's link check, crawlers, previews and
-- scanners that the first list missed (an operator's own rows are left as they are)
insert into drip.bot_user_agents (pattern, note) values
    ('^curl/', 'curl'),
    ('^wget/', 'GNU Wget'),
    ('python-requests|python-urllib|python-httpx|aiohttp', 'Python HTTP libraries'),
    ('go-http-client', 'Go''s net/http'),
    ('microsoft office (protocol|existence) discovery|ms-office|microsoft-webdav',
     'Microsoft Office checking a link before it opens a browser'),
    ('^java/|apache-httpclient|okhttp|jakarta commons', 'Java HTTP libraries'),
    ('libwww-perl|lwp-trivial|^php/|guzzlehttp', 'Perl and PHP HTTP libraries'),
    ('node-fetch|axios/|undici', 'Node.js HTTP libraries'),
    ('headlesschrome|phantomjs', 'headless browsers driven by scanners'),
    ('scrapy|httrack|nutch', 'crawling frameworks'),
    ('bingbot|yandexbot|baiduspider|duckduckbot|applebot|petalbot|bytespider|sogou web spider', 'search engine crawlers'),
    ('ahrefsbot|semrushbot|mj12bot|dotbot|gptbot|claudebot|ccbot|amazonbot', 'SEO and AI crawlers'),
    ('skypeuripreview|iframely|embedly|pinterestbot|redditbot|mattermost-bot', 'link previews'),
    ('google-safety|feedfetcher-google|google-inspectiontool|googleother', 'Google link checks'),
    ('virustotal|urlscan|paloalto|zscaler|fortiguard|netcraft', 'URL reputation scanners'),
    ('censys|zgrab|masscan|nmap|nuclei|nikto|sqlmap', 'network and vulnerability scanners')
on conflict (pattern) do nothing;
