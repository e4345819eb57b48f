-- trigger drip.tg_groups__forget() on drip.groups, after delete, per statement
-- Deleting a group removes its memberships.
create or replace function drip.tg_groups__forget() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    delete from drip.group_members g using old_rows d where g.group_id = d.id;
    return null;
end
$$;
create or replace trigger groups__forget
    after delete on drip.groups
    referencing old table as old_rows
    for each statement execute function drip.tg_groups__forget();
