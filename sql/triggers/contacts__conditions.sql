-- trigger drip.tg_contacts__conditions() on drip.contacts, after insert or update, per statement
-- New contacts are judged against every active segment (before, they matched nothing); an
-- update judges the contacts whose attributes changed against the exit conditions and segments
-- that read attributes (drip.condition_events). One look at drip.sequences when none exists.
create or replace function drip.tg_contacts__conditions() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
begin
    if not drip.conditions_read(case when tg_op = 'INSERT' then '*' else 'attribute' end) then
        return null;
    end if;
    -- the transition tables read on their own: on Citus, joining them with a Citus table fails
    if tg_op = 'INSERT' then
        select array_agg(n.id) into v_contacts from new_rows n;
        perform drip.condition_events('*', v_contacts, tg_relid);
    else
        select array_agg(n.id) into v_contacts
        from new_rows n join old_rows o on o.id = n.id
        where n.attributes is distinct from o.attributes;
        perform drip.condition_events('attribute', v_contacts, tg_relid);
    end if;
    return null;
end
$$;
create or replace trigger contacts__conditions_insert
    after insert on drip.contacts referencing new table as new_rows
    for each statement execute function drip.tg_contacts__conditions();
create or replace trigger contacts__conditions_update
    after update on drip.contacts referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_contacts__conditions();
