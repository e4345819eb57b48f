-- trigger drip.tg_contact_tags__enroll() on drip.contact_tags, after insert, per statement
-- Fires tag_added for every inserted (contact, tag) in one set-based call.
create or replace function drip.tg_contact_tags__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'tag_added') then
        perform drip.enroll_events('tag_added', array_agg(n.contact_id), array_agg(t.name))
        from new_rows n join drip.tags t on t.id = n.tag_id;
    end if;
    return null;
end
$$;
create or replace trigger contact_tags__enroll
    after insert on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__enroll();
