-- trigger drip.tg_link_clicks__enroll() on drip.link_clicks, after insert, per statement
-- Fires after_first_click for a contact's first click in a mailing.
create or replace function drip.tg_link_clicks__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'after_first_click') then
        perform drip.enroll_events('after_first_click', array_agg(n.contact_id), array_agg(n.mailing_id::text))
        from new_rows n
        where not exists (
            select 1 from drip.link_clicks c
            where c.contact_id = n.contact_id and c.mailing_id = n.mailing_id and c.id < n.id);
    end if;
    return null;
end
$$;
create or replace trigger link_clicks__enroll
    after insert on drip.link_clicks
    referencing new table as new_rows
    for each statement execute function drip.tg_link_clicks__enroll();
