-- table drip.events
-- What happened to a contact, as the application tells it ('trial_started', 'cart_abandoned'):
-- inserting a row enrolls into event sequences, ends waits, reaches goals and moves segments, in
-- the writer's transaction (behaviours 17-22). Insert-only. The name is matched
-- case-insensitively; key ties related events together (a cart id); payload is a JSON object
-- that {{event.X}} tags read. The contact is checked per statement (events__check_refs) and
-- deleting it deletes its events (contacts__forget), as for contact_tags.
create table drip.events (
    id bigint generated always as identity primary key,
    contact_id bigint not null,
    name text not null,
    key text,
    payload jsonb not null default '{}',
    occurred_at timestamptz not null default now()
);
-- conditions ({"event": ...}) and waits look a contact's events up by name and time
create index events_contact_name on drip.events (contact_id, lower(name), occurred_at);
-- drip.prune walks events by time
create index events_time on drip.events (occurred_at, id);
alter table drip.events set (autovacuum_vacuum_scale_factor = 0.05);
