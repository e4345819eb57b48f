-- drip.enroll_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null) returns integer
-- Set-based heart of enrollment: every (contact, value) event enrolls the contact into each
-- active sequence of that type whose value is NULL or matches. Returns new enrollments.
create or replace function drip.enroll_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_count integer;
    v_due_now boolean;
begin
    with events as (
        select distinct e.contact_id, e.value
        from unnest(p_contact_ids, p_values) as e (contact_id, value)
    ), matches as (
        select distinct s.id as sequence_id, c.id as contact_id
        from events ev
        join drip.contacts c on c.id = ev.contact_id and c.unsubscribed_at is null
        join drip.sequences s on s.active and s.trigger_type = p_trigger_type
            and (s.trigger_value is null
                 or case when p_trigger_type = 'tag_added' then lower(s.trigger_value) = lower(ev.value)
                         else s.trigger_value = ev.value end)
    ), inserted as (
        insert into drip.enrollments (sequence_id, contact_id, next_step_due_at, occurrence)
        select m.sequence_id, m.contact_id,
               now() + coalesce(fs.delay_hours, 0) * interval '1 hour',
               p_occurrence
        from matches m
        left join lateral (
            select st.delay_hours from drip.sequence_steps st
            where st.sequence_id = m.sequence_id and st.active
            order by st.step_order limit 1
        ) fs on true
        order by m.contact_id, m.sequence_id
        on conflict do nothing
        returning next_step_due_at
    )
    select count(*), coalesce(bool_or(next_step_due_at <= now()), false)
    into v_count, v_due_now
    from inserted;

    if v_due_now then
        perform pg_notify('drip_due', '');
    end if;
    return v_count;
end
$$;
revoke all on function drip.enroll_events(text, bigint[], text[], date) from public;
comment on function drip.enroll_events(text, bigint[], text[], date) is
    'Enrolls each (contact, value) event into every matching active sequence; returns new enrollments.';
