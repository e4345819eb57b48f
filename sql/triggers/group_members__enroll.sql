-- trigger drip.tg_group_members__enroll() on drip.group_members, after insert, per statement
-- Fires group_added for every inserted (group, contact) in one set-based call each: goals first,
-- then enrollment.
create or replace function drip.tg_group_members__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
    v_values text[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'group_added') or s.exit_trigger_type = 'group_added') then
        select array_agg(n.contact_id), array_agg(n.group_id::text) into v_contacts, v_values from new_rows n;
        perform drip.route_events('group_added', v_contacts, v_values, p_near => tg_relid);
    end if;
    return null;
end
$$;
create or replace trigger group_members__enroll
    after insert on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__enroll();
