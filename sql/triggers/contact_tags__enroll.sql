-- trigger drip.tg_contact_tags__enroll() on drip.contact_tags, after insert, per statement
-- Fires tag_added for every inserted (contact, tag) in one set-based call each: goals first
-- (drip.exit_events), then enrollment (drip.enroll_events).
create or replace function drip.tg_contact_tags__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_contacts bigint[];
    v_values text[];
    v_tag_ids bigint[];
begin
    if exists (select 1 from drip.sequences s
               where (s.active and s.trigger_type = 'tag_added') or s.exit_trigger_type = 'tag_added') then
        -- the transition table read on its own: on Citus, joining it with any Citus table fails
        select array_agg(n.contact_id), array_agg(n.tag_id) into v_contacts, v_tag_ids from new_rows n;
        select array_agg(u.contact_id), array_agg(t.name) into v_contacts, v_values
        from unnest(v_contacts, v_tag_ids) as u (contact_id, tag_id)
        join drip.tags t on t.id = u.tag_id;
        perform drip.route_events('tag_added', v_contacts, v_values, p_near => tg_relid);
    end if;
    return null;
end
$$;
create or replace trigger contact_tags__enroll
    after insert on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__enroll();
