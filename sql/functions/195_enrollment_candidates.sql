-- drip.enrollment_candidates(p_trigger_type text, p_contact_ids bigint[], p_values text[]) returns table (sequence_id bigint, contact_id bigint, first_delay numeric)
-- The (sequence, contact) pairs a batch of events asks for: each subscribed contact with every
-- active sequence of that type whose value is NULL or matches, and the delay of the sequence's
-- first active step. Distinct pairs. Used by drip.enroll_events.
create or replace function drip.enrollment_candidates(p_trigger_type text, p_contact_ids bigint[], p_values text[])
returns table (sequence_id bigint, contact_id bigint, first_delay numeric)
language sql stable
set search_path = ''
set work_mem = '64MB'
set jit = off
as $$
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
    )
    select distinct s.id, ev.contact_id, s.first_delay
    from events ev
    join candidates s on s.trigger_value is null
         or case when p_trigger_type = 'tag_added' then lower(s.trigger_value) = lower(ev.value)
                 else s.trigger_value = ev.value end
$$;
