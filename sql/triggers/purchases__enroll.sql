-- trigger drip.tg_purchases__enroll_insert() / tg_purchases__enroll_update() on drip.purchases, per statement
-- Fires after_purchase for purchases inserted as confirmed or confirmed for the first time: goals
-- first, then enrollment. (Two functions: a trigger with transition tables serves one event only.)
create or replace function drip.tg_purchases__enroll_insert() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
    v_values text[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'after_purchase') or s.exit_trigger_type = 'after_purchase') then
        select array_agg(n.contact_id), array_agg(n.product_id) into v_contacts, v_values
        from new_rows n where n.status = 'confirmed';
        perform drip.route_events('after_purchase', v_contacts, v_values, p_near => tg_relid);
    end if;
    return null;
end
$$;
create or replace function drip.tg_purchases__enroll_update() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
    v_values text[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'after_purchase') or s.exit_trigger_type = 'after_purchase') then
        select array_agg(n.contact_id), array_agg(n.product_id) into v_contacts, v_values
        from new_rows n join old_rows o on o.id = n.id
        where n.confirmed_at is not null and o.confirmed_at is null;
        perform drip.route_events('after_purchase', v_contacts, v_values, p_near => tg_relid);
    end if;
    return null;
end
$$;
create or replace trigger purchases__enroll_insert
    after insert on drip.purchases
    referencing new table as new_rows
    for each statement execute function drip.tg_purchases__enroll_insert();
create or replace trigger purchases__enroll_update
    after update on drip.purchases
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_purchases__enroll_update();
