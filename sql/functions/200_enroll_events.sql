-- drip.enroll_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null) returns integer
-- Set-based heart of enrollment: every (contact, value) event enrolls the contact into each
-- active sequence of that type whose value is NULL or matches. Returns new enrollments.
create or replace function drip.enroll_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
-- bulk events (100k tags in one INSERT) sort and hash in memory rather than on disk
set work_mem = '64MB'
set jit = off
as $$
declare
    v_count integer;
    v_due_now boolean;
begin
    with candidates as materialized (
        -- the few sequences this event type can start, with the delay of their first active step
        select s.id, s.trigger_value,
               coalesce((select st.delay_hours from drip.sequence_steps st
                         where st.sequence_id = s.id and st.active
                         order by st.step_order limit 1), 0) as first_delay
        from drip.sequences s
        where s.active and s.trigger_type = p_trigger_type
    ), events as materialized (
        -- subscribed contacts only: each contact looked up once, whatever the number of sequences
        select distinct ev.contact_id, ev.value
        from unnest(p_contact_ids, p_values) as ev (contact_id, value)
        join drip.contacts c on c.id = ev.contact_id and c.unsubscribed_at is null
    ), matches as (
        select distinct s.id as sequence_id, ev.contact_id, s.first_delay
        from events ev
        join candidates s on s.trigger_value is null
             or case when p_trigger_type = 'tag_added' then lower(s.trigger_value) = lower(ev.value)
                     else s.trigger_value = ev.value end
    ), inserted as (
        insert into drip.enrollments (sequence_id, contact_id, next_step_due_at, occurrence)
        select m.sequence_id, m.contact_id, now() + m.first_delay * interval '1 hour', p_occurrence
        from matches m
        -- one lock order for every writer, so concurrent bulk enrollments cannot deadlock; the
        -- order of the unique index, so its pages are visited once each
        order by m.sequence_id, m.contact_id
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
