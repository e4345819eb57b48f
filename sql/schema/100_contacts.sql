-- table drip.contacts
-- People who receive mail. Email is unique case-insensitively.
create table drip.contacts (
    id bigint generated always as identity primary key,
    email text not null,
    first_name text,
    last_name text,
    birthday date,
    created_at timestamptz not null default now(),
    unsubscribed_at timestamptz,
    -- set by the runner when the mail server says the mailbox does not exist (behaviour 14)
    bounced_at timestamptz,
    -- IANA zone; NULL: the sequence's zone (behaviour 10)
    time_zone text,
    -- the application's own fields (plan, company, ...): a JSON object (behaviour 18, conditions)
    attributes jsonb not null default '{}'
);
create unique index contacts_email_key on drip.contacts (lower(email));
-- The sweep reads only today's month+day of subscribed contacts.
create index contacts_birthday_md on drip.contacts (drip.month_day(birthday))
    where birthday is not null and unsubscribed_at is null;
create index contacts_created_md on drip.contacts (drip.month_day(drip.utc_date(created_at)))
    where unsubscribed_at is null;
-- drip.status counts bounced contacts: a tiny partial index instead of a scan of every contact
create index contacts_bounced on drip.contacts (id) where bounced_at is not null;
