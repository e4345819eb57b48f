-- Initial schema: a frozen copy of sql/schema at the first release.
-- Later structure changes get their own migration and the same edit in sql/schema.

-- schema drip
-- Every pgdrip object lives in this schema.
create schema if not exists drip;
comment on schema drip is 'pgdrip: drip campaigns inside PostgreSQL';

-- drip.month_day(p_date date) returns integer; drip.utc_date(p_at timestamptz) returns date
-- month * 100 + day, and the UTC calendar date: the immutable keys of the anniversary indexes.
-- Pure SQL expressions without a SET clause so that the planner inlines them (a SET clause
-- forbids inlining); every name, operators included, is schema-qualified instead.
create function drip.month_day(p_date date) returns integer
language sql immutable parallel safe
return (pg_catalog.date_part('month', p_date)::integer OPERATOR(pg_catalog.*) 100)
       OPERATOR(pg_catalog.+) pg_catalog.date_part('day', p_date)::integer;

create function drip.utc_date(p_at timestamptz) returns date
language sql immutable parallel safe
return pg_catalog.timezone('UTC', p_at)::date;

-- drip.merge_forms(p_text text) returns text[]
-- How a template writes each merge tag, as six elements: for FirstName, LastName and Email in
-- turn, the tag's one written form and its fallback (e.g. '{{FirstName|there}}', 'there').
-- The form is '' when the tag is absent and NULL when it is written in several ways. Stored
-- per step, so rendering is a plain replace() unless a template mixes forms of one tag.
create function drip.merge_forms(p_text text) returns text[]
language sql immutable parallel safe
set search_path = ''
as $$
    select array_agg(v.x order by v.k)
    from unnest(array['FirstName', 'LastName', 'Email']) with ordinality as t (tag, n)
    cross join lateral (
        select count(distinct m[1]) as forms, min(m[1]) as form, min(m[2]) as fallback
        from regexp_matches(p_text, '(\{\{\s*' || t.tag || '\s*(?:\|\s*([^}]*?)\s*)?\}\})', 'gi') as m
    ) f
    cross join lateral (values
        (t.n * 2 - 1, case f.forms when 0 then '' when 1 then f.form end),
        (t.n * 2, case f.forms when 1 then f.fallback end)
    ) as v (k, x)
$$;

-- table drip.contacts
-- People who receive mail. Email is unique case-insensitively.
create table drip.contacts (
    id bigint generated always as identity primary key,
    email text not null,
    first_name text,
    last_name text,
    birthday date,
    created_at timestamptz not null default now(),
    unsubscribed_at timestamptz
);
create unique index contacts_email_key on drip.contacts (lower(email));
-- The sweep reads only today's month+day of subscribed contacts.
create index contacts_birthday_md on drip.contacts (drip.month_day(birthday))
    where birthday is not null and unsubscribed_at is null;
create index contacts_created_md on drip.contacts (drip.month_day(drip.utc_date(created_at)))
    where unsubscribed_at is null;

-- table drip.tags
-- Labels applied to contacts; names unique case-insensitively.
create table drip.tags (
    id bigint generated always as identity primary key,
    name text not null
);
create unique index tags_name_key on drip.tags (lower(name));

-- table drip.contact_tags
-- A contact carries a tag; inserting a row fires tag_added. The references are checked per
-- statement by contact_tags__check_refs (locking like a foreign key, 8x cheaper in bulk) and
-- cascade on delete by contacts__forget and tags__forget.
create table drip.contact_tags (
    contact_id bigint not null,
    tag_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (contact_id, tag_id)
);
create index contact_tags_tag on drip.contact_tags (tag_id);

-- table drip.groups
-- Named groups of contacts.
create table drip.groups (
    id bigint generated always as identity primary key,
    name text not null
);

-- table drip.group_members
-- A contact belongs to a group; inserting a row fires group_added. References are checked per
-- statement by group_members__check_refs and cascade by contacts__forget and groups__forget.
create table drip.group_members (
    group_id bigint not null,
    contact_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (group_id, contact_id)
);
create index group_members_contact on drip.group_members (contact_id);

-- table drip.purchases
-- Purchases; becoming confirmed (once per purchase) fires after_purchase.
create table drip.purchases (
    id bigint generated always as identity primary key,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    product_id text,
    status text not null default 'confirmed'
        constraint purchases_status_check check (status in ('pending', 'confirmed', 'refunded', 'failed')),
    created_at timestamptz not null default now(),
    confirmed_at timestamptz
);
create index purchases_contact on drip.purchases (contact_id);

-- table drip.link_clicks
-- Clicks on links in mailings; a contact's first click in a mailing fires after_first_click.
create table drip.link_clicks (
    id bigint generated always as identity primary key,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    mailing_id bigint not null,
    url text,
    clicked_at timestamptz not null default now()
);
create index link_clicks_contact_mailing on drip.link_clicks (contact_id, mailing_id, id);

-- table drip.sequences
-- A drip campaign and the event that starts it.
create table drip.sequences (
    id bigint generated always as identity primary key,
    name text not null,
    description text,
    active boolean not null default true,
    trigger_type text not null
        constraint sequences_trigger_type_check check (trigger_type in
            ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click')),
    trigger_value text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index sequences_trigger on drip.sequences (trigger_type) where active;

-- table drip.sequence_steps
-- The ordered emails of a sequence; delay_hours counts from the previous send.
create table drip.sequence_steps (
    id bigint generated always as identity primary key,
    sequence_id bigint not null references drip.sequences (id) on delete cascade,
    step_order int not null constraint sequence_steps_step_order_check check (step_order > 0),
    delay_hours numeric not null default 0
        constraint sequence_steps_delay_hours_check check (delay_hours >= 0),
    subject text not null,
    html_body text not null,
    active boolean not null default true,
    -- how subject and body write their merge tags (see drip.merge_forms), kept for the dispatcher
    subject_merge text[] not null generated always as (drip.merge_forms(subject)) stored,
    body_merge text[] not null generated always as (drip.merge_forms(html_body)) stored,
    unique (sequence_id, step_order)
);

-- table drip.enrollments
-- A contact's progress through a sequence. No foreign keys: pgdrip is the only writer and takes
-- both ids from a join, and per-row key checks tripled the cost of bulk enrollment. Deleting a
-- contact cascades by trigger (contacts__forget); deleting a sequence with enrollments is refused
-- (sequences__protect).
create table drip.enrollments (
    id bigint generated always as identity primary key,
    sequence_id bigint not null,
    contact_id bigint not null,
    status text not null default 'active'
        constraint enrollments_status_check check (status in ('active', 'completed', 'cancelled')),
    last_step_order_sent int not null default 0,
    last_step_sent_at timestamptz,
    next_step_due_at timestamptz,
    enrolled_at timestamptz not null default now(),
    completed_at timestamptz,
    cancelled_at timestamptz,
    -- the anniversary date this enrollment celebrates (anniversary sequences only)
    occurrence date
);
-- At most one active enrollment per (sequence, contact), whatever the concurrency.
create unique index enrollments_one_active on drip.enrollments (sequence_id, contact_id)
    where status = 'active';
-- An anniversary enrolls a contact at most once per (sequence, day).
create unique index enrollments_occurrence on drip.enrollments (sequence_id, contact_id, occurrence)
    where occurrence is not null;
-- The dispatcher reads only what is due: cost follows the due set, not history.
create index enrollments_due on drip.enrollments (next_step_due_at, id) where status = 'active';
create index enrollments_contact on drip.enrollments (contact_id) where status = 'active';
create index enrollments_sequence on drip.enrollments (sequence_id);
alter table drip.enrollments set (autovacuum_vacuum_scale_factor = 0.05, fillfactor = 90);

-- table drip.outbox
-- Rendered messages waiting for, or done with, the sender.
create table drip.outbox (
    id bigint generated always as identity primary key,
    enrollment_id bigint not null,
    step_id bigint not null,
    contact_id bigint not null,
    to_address text not null,
    subject text not null,
    html_body text not null,
    status text not null default 'queued'
        constraint outbox_status_check check (status in ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts int not null default 0,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    last_error text,
    -- stable across retries; a random UUID, so unique without an index (a unique index on random
    -- keys cost a random B-tree page per queued row and made dispatch slow down as the outbox grew)
    message_id text not null default '<' || gen_random_uuid() || '@pgdrip>',
    -- queued: when the row may next be tried; sending: when its lease runs out
    next_attempt_at timestamptz not null default now(),
    locked_by text
);
-- One outbox row per (enrollment, step), whatever the concurrency.
create unique index outbox_enrollment_step on drip.outbox (enrollment_id, step_id);
-- The drain claims from this index only: queued rows and expired leases.
create index outbox_sendable on drip.outbox (next_attempt_at, id) where status in ('queued', 'sending');
create index outbox_contact_pending on drip.outbox (contact_id) where status in ('queued', 'sending');
create index outbox_failed on drip.outbox (id) where status = 'failed';
alter table drip.outbox set (autovacuum_vacuum_scale_factor = 0.05, fillfactor = 90);

-- table drip.sweeps
-- One row per swept day: the claim that lets only one runner sweep it.
create table drip.sweeps (
    sweep_date date primary key,
    claimed_by text,
    swept_at timestamptz not null default now()
);

-- table drip.runners
-- Heartbeats of running runners, for `pgdrip status`.
create table drip.runners (
    name text primary key,
    host text,
    pid int,
    started_at timestamptz not null default now(),
    seen_at timestamptz not null default now()
);

