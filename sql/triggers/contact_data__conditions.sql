-- trigger drip.tg_contact_data__conditions() on drip.contact_tags, drip.group_members, drip.purchases, drip.link_clicks, per statement
-- A write to what conditions read (TG_ARGV[0]: 'tag', 'group', 'purchased' or 'clicked') judges,
-- for the contacts the statement touched, the exit conditions and segments that read it
-- (drip.condition_events): inserted rows, deleted rows (a tag removed can make {"not": ...}
-- true), updated rows (a purchase confirmed or refunded). Named to fire after the tables'
-- reference checks and enrollment triggers. One look at drip.sequences when nothing reads it.
create or replace function drip.tg_contact_data__conditions() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
begin
    if not drip.conditions_read(tg_argv[0]) then
        return null;
    end if;
    -- the transition tables read on their own: on Citus, joining them with a Citus table fails
    if tg_op = 'DELETE' then
        select array_agg(distinct o.contact_id) into v_contacts from old_rows o;
    else
        select array_agg(distinct n.contact_id) into v_contacts from new_rows n;
    end if;
    perform drip.condition_events(tg_argv[0], v_contacts, tg_relid);
    return null;
end
$$;
create or replace trigger contact_tags__conditions_insert
    after insert on drip.contact_tags referencing new table as new_rows
    for each statement execute function drip.tg_contact_data__conditions('tag');
create or replace trigger contact_tags__conditions_delete
    after delete on drip.contact_tags referencing old table as old_rows
    for each statement execute function drip.tg_contact_data__conditions('tag');
create or replace trigger group_members__conditions_insert
    after insert on drip.group_members referencing new table as new_rows
    for each statement execute function drip.tg_contact_data__conditions('group');
create or replace trigger group_members__conditions_delete
    after delete on drip.group_members referencing old table as old_rows
    for each statement execute function drip.tg_contact_data__conditions('group');
create or replace trigger purchases__conditions_insert
    after insert on drip.purchases referencing new table as new_rows
    for each statement execute function drip.tg_contact_data__conditions('purchased');
create or replace trigger purchases__conditions_update
    after update on drip.purchases referencing new table as new_rows
    for each statement execute function drip.tg_contact_data__conditions('purchased');
create or replace trigger purchases__conditions_delete
    after delete on drip.purchases referencing old table as old_rows
    for each statement execute function drip.tg_contact_data__conditions('purchased');
create or replace trigger link_clicks__conditions_insert
    after insert on drip.link_clicks referencing new table as new_rows
    for each statement execute function drip.tg_contact_data__conditions('clicked');
