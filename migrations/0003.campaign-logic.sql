-- Second release, campaign logic (issue 11): local time and send windows, goals, re-entry,
-- the step report's counters, and what pruning remembers. The same edits are in sql/schema;
-- tests/migration proves the two agree.

-- drip.days_mask(p_days integer[]) returns integer
-- ISO weekdays (1 = Monday .. 7 = Sunday) as bits (Monday = 1, Sunday = 64), NULL for NULL (every
-- day): sequences keep it in a generated column, so the dispatcher tests a day with one AND.
create function drip.days_mask(p_days integer[]) returns integer
language sql immutable parallel safe
set search_path = ''
as $$
    select case when p_days is null then null
                else coalesce(sum(distinct 1 << (d - 1)), 0)::integer end
    from unnest(p_days) d
    where d between 1 and 7
$$;

-- table drip.time_zones
-- The zone names this server knows (pg_timezone_names), copied by every `pgdrip migrate`: that
-- view reads the zone files on each query (about 50 ms), too slow to check every contact row.
create table drip.time_zones (
    name text primary key
);
create unique index time_zones_lower on drip.time_zones (lower(name));
insert into drip.time_zones (name) select name from pg_catalog.pg_timezone_names on conflict do nothing;

alter table drip.contacts add column time_zone text;

alter table drip.sequences
    add column time_zone text not null default 'UTC',
    add column send_window_start time,
    add column send_window_end time,
    add column send_days integer[],
    add column send_days_mask integer generated always as (drip.days_mask(send_days)) stored,
    add column exit_trigger_type text
        constraint sequences_exit_trigger_type_check check (exit_trigger_type in
            ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click')),
    add column exit_trigger_value text,
    add column reentry text not null default 'after_completion'
        constraint sequences_reentry_check check (reentry in ('after_completion', 'never'));
create index sequences_exit_trigger on drip.sequences (exit_trigger_type) where exit_trigger_type is not null;

alter table drip.enrollments
    add column exited_at timestamptz,
    drop constraint enrollments_status_check,
    add constraint enrollments_status_check check (status in ('active', 'completed', 'cancelled', 'exited'));
drop index drip.enrollments_sequence;
create index enrollments_sequence_contact on drip.enrollments (sequence_id, contact_id);

-- table drip.pruned_enrollments
-- What drip.prune must remember of the finished enrollments it deletes so that no behaviour
-- changes: that a contact was once in a reentry = 'never' sequence (occurrence NULL), and which
-- anniversary dates a contact was already enrolled for.
create table drip.pruned_enrollments (
    sequence_id bigint not null,
    contact_id bigint not null,
    occurrence date
);
create index pruned_enrollments_key on drip.pruned_enrollments (sequence_id, contact_id, occurrence);

-- table drip.step_stats
-- What drip.step_report adds up: per step and day, changes to the count of messages in each
-- state and of clicks and unsubscribes, appended by the writers (one row per statement and step,
-- see outbox__count) and compacted daily (drip.compact_step_stats), so a report reads a few rows
-- per step instead of the outbox. Pruning the outbox leaves them be. contact_id is one contact of
-- the rows counted: it keeps a delta on the shard of those rows on Citus.
create table drip.step_stats (
    step_id bigint not null,
    day date not null,
    contact_id bigint,
    queued bigint not null default 0,
    sent bigint not null default 0,
    failed bigint not null default 0,
    cancelled bigint not null default 0,
    clicks bigint not null default 0,
    bot_clicks bigint not null default 0,
    unique_clickers bigint not null default 0,
    unsubscribes bigint not null default 0
);
create index step_stats_step on drip.step_stats (step_id);

-- the report starts from the history already in the outbox, counted once here
insert into drip.step_stats (step_id, day, contact_id, queued, sent, failed, cancelled)
select o.step_id, (o.created_at at time zone 'UTC')::date, min(o.contact_id),
       count(*) filter (where o.status in ('queued', 'sending')), count(*) filter (where o.status = 'sent'),
       count(*) filter (where o.status = 'failed'), count(*) filter (where o.status = 'cancelled')
from drip.outbox o
group by o.step_id, (o.created_at at time zone 'UTC')::date;

-- signatures that changed (their new versions are in sql/functions)
drop function if exists drip.enroll_events(text, bigint[], text[], date);
drop function if exists drip.check_trigger(text, text);
