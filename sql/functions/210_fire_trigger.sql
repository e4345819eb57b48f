-- drip.fire_trigger(p_trigger_type text, p_contact_id bigint, p_value text default null) returns integer
-- Entry point for applications with their own tables: the event first ends the contact's
-- enrollments whose goal it matches (drip.exit_events), then enrolls the contact into every
-- matching active sequence. Returns how many new enrollments; repeating an event while the
-- enrollment is active is a no-op. Events and segments have their own ways in: a row in
-- drip.events, and drip.enroll_matching.
create or replace function drip.fire_trigger(
    p_trigger_type text, p_contact_id bigint, p_value text default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
as $$
begin
    if p_trigger_type in ('event', 'segment') then
        raise exception 'fire_trigger does not fire % sequences', p_trigger_type
            using errcode = '22023', column = 'p_trigger_type', detail = 'field: p_trigger_type',
                  hint = case p_trigger_type
                      when 'event' then 'Insert the event into drip.events (contact_id, name, key, payload): that enrolls, ends waits and reaches goals.'
                      else 'A segment enrolls contacts as writes make them match; drip.enroll_matching(sequence_id) enrolls those who already do.' end;
    end if;
    perform drip.check_trigger(p_trigger_type, case when p_trigger_type = 'anniversary' then p_value end);
    -- FOR KEY SHARE, as a foreign key would: a concurrent delete of the contact waits for this
    -- transaction, then cascades to the enrollment made here (or has already happened: an error)
    if p_contact_id is null
       or not exists (select 1 from drip.contacts c where c.id = p_contact_id for key share) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = '23503', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    -- goals, then enrollment (on Citus, inside the contact's shard)
    return drip.route_events(p_trigger_type, array[p_contact_id], array[p_value],
        case when p_trigger_type = 'anniversary' then drip.utc_date(now()) end);
end
$$;
revoke all on function drip.fire_trigger(text, bigint, text) from public;
comment on function drip.fire_trigger(text, bigint, text) is
    'Enrolls a contact into every matching active sequence; returns how many new enrollments.';
