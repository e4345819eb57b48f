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
