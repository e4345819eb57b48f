-- trigger drip.tg_group_members__enroll() on drip.group_members, after insert, per statement
-- Fires group_added for every inserted (group, contact) in one set-based call.
create or replace function drip.tg_group_members__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'group_added') then
        perform drip.enroll_events('group_added', array_agg(n.contact_id), array_agg(n.group_id::text))
        from new_rows n;
    end if;
    return null;
end
$$;
create or replace trigger group_members__enroll
    after insert on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__enroll();
