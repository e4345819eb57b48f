-- Third release, journeys (issue 19; contract behaviours 17-22): the application's events and
-- fields, conditions, waits, segments and exit conditions. The same edits are in sql/schema;
-- tests/migration proves the two agree. Every default keeps today's behaviour.

-- contacts: the application's own fields (a JSON object, checked by contacts__validate_attributes)
alter table drip.contacts add column attributes jsonb not null default '{}';

-- table drip.events
create table drip.events (
    id bigint generated always as identity primary key,
    contact_id bigint not null,
    name text not null,
    key text,
    payload jsonb not null default '{}',
    occurred_at timestamptz not null default now()
);
create index events_contact_name on drip.events (contact_id, lower(name), occurred_at);
create index events_time on drip.events (occurred_at, id);
alter table drip.events set (autovacuum_vacuum_scale_factor = 0.05);

-- sequences: the event and segment triggers, entry and exit conditions
alter table drip.sequences drop constraint sequences_trigger_type_check;
alter table drip.sequences add constraint sequences_trigger_type_check check (trigger_type in
    ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click', 'event', 'segment'));
alter table drip.sequences drop constraint sequences_exit_trigger_type_check;
alter table drip.sequences add constraint sequences_exit_trigger_type_check check (exit_trigger_type in
    ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click', 'event'));
alter table drip.sequences
    add column entry_condition jsonb,
    add column exit_condition jsonb,
    add column entry_sources text[],
    add column exit_sources text[];

-- steps: a condition to send, an event that ends the wait, and whether a template reads fields
alter table drip.sequence_steps
    add column send_if jsonb,
    add column wait_for_event text,
    add column field_tags boolean not null generated always as (
        subject ~* '\{\{\s*(attribute|event)\.' or html_body ~* '\{\{\s*(attribute|event)\.') stored;

-- enrollments: the event that enrolled the contact, and its key
alter table drip.enrollments
    add column event_key text,
    add column event_id bigint;
drop index drip.enrollments_one_active;
create unique index enrollments_one_active on drip.enrollments (sequence_id, contact_id, event_key) nulls not distinct
    where status = 'active';

-- table drip.segment_members
create table drip.segment_members (
    sequence_id bigint not null,
    contact_id bigint not null,
    since timestamptz not null default now(),
    primary key (sequence_id, contact_id)
);
create index segment_members_contact on drip.segment_members (contact_id);

-- the step report's skipped steps
alter table drip.step_stats add column skipped bigint not null default 0;
