-- trigger drip.tg_group_members__check_refs() on drip.group_members, after insert or update, per statement
-- The references to groups and contacts, checked once per statement (see drip.require_rows).
-- Named to fire before group_members__enroll.
create or replace function drip.tg_group_members__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    perform drip.require_rows('groups', (select array_agg(distinct n.group_id) from new_rows n), 'group_id');
    return null;
end
$$;
create or replace trigger group_members__check_refs_insert
    after insert on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__check_refs();
create or replace trigger group_members__check_refs_update
    after update on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__check_refs();
