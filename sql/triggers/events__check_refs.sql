-- trigger drip.tg_events__check_refs() on drip.events, after insert or update, per statement
-- The reference to contacts, checked once per statement (see drip.require_rows). Named to fire
-- before events__route.
create or replace function drip.tg_events__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    return null;
end
$$;
create or replace trigger events__check_refs_insert
    after insert on drip.events
    referencing new table as new_rows
    for each statement execute function drip.tg_events__check_refs();
create or replace trigger events__check_refs_update
    after update on drip.events
    referencing new table as new_rows
    for each statement execute function drip.tg_events__check_refs();
