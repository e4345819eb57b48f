-- table drip.bot_user_agents
-- User agents of link scanners (case-insensitive regular expressions): a tracked-link request
-- whose user agent matches one is a bot click. Operators add and remove rows as they see fit;
-- an upgrade only adds the patterns a release ships (migrations/0007), never changes or
-- restores an operator's.
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
    ('slackbot|facebookexternalhit|twitterbot|linkedinbot|discordbot|whatsapp|telegrambot', 'link unfurlers'),
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
    ('censys|zgrab|masscan|nmap|nuclei|nikto|sqlmap', 'network and vulnerability scanners');
