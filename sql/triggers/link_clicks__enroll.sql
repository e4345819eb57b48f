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
    v_mailings bigint[];
    v_steps bigint[];
    v_ids bigint[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'after_first_click') or s.exit_trigger_type = 'after_first_click') then
        -- the transition table read on its own: on Citus, joining it with a Citus table fails
        select array_agg(n.contact_id), array_agg(n.mailing_id), array_agg(n.step_id), array_agg(n.id)
        into v_contacts, v_mailings, v_steps, v_ids
        from new_rows n;
        execute format($sql$
            select array_agg(n.contact_id),
                   array_agg(case when n.step_id is null then n.mailing_id::text else 'step:' || n.step_id end)
            from unnest($1, $2, $3, $4) as n (contact_id, mailing_id, step_id, id)
            where not exists (
                select 1 from %s c
                where c.contact_id = n.contact_id and c.mailing_id = n.mailing_id
                  and c.step_id is not distinct from n.step_id and c.id < n.id)$sql$,
            drip.local_table(tg_relid, 'link_clicks'))
        into v_contacts, v_values
        using v_contacts, v_mailings, v_steps, v_ids;
        perform drip.route_events('after_first_click', v_contacts, v_values, p_near => tg_relid);
    end if;
    return null;
end
$$;
create or replace trigger link_clicks__enroll
    after insert on drip.link_clicks
    referencing new table as new_rows
    for each statement execute function drip.tg_link_clicks__enroll();
