-- trigger drip.tg_link_clicks__enroll() on drip.link_clicks, after insert, per statement
-- Fires after_first_click for a contact's first click in a mailing: goals first, then enrollment.
-- The event's value is the mailing id, or 'step:ID' for a click pgdrip tracked in one of its
-- own steps' mail (step_id set), so sequences can follow either without the ids colliding.
create or replace function drip.tg_link_clicks__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
    v_values text[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'after_first_click') or s.exit_trigger_type = 'after_first_click') then
        select array_agg(n.contact_id),
               array_agg(case when n.step_id is null then n.mailing_id::text else 'step:' || n.step_id end)
        into v_contacts, v_values
        from new_rows n
        where not exists (
            select 1 from drip.link_clicks c
            where c.contact_id = n.contact_id and c.mailing_id = n.mailing_id
              and c.step_id is not distinct from n.step_id and c.id < n.id);
        perform drip.exit_events('after_first_click', v_contacts, v_values);
        perform drip.enroll_events('after_first_click', v_contacts, v_values);
    end if;
    return null;
end
$$;
create or replace trigger link_clicks__enroll
    after insert on drip.link_clicks
    referencing new table as new_rows
    for each statement execute function drip.tg_link_clicks__enroll();
