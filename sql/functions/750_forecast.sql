-- drip.forecast(p_until timestamptz) returns table (enrollment_id bigint, contact_id bigint, sequence_id bigint, step_id bigint, step_order integer, due_at timestamptz)
-- Every step that active enrollments will be sent until p_until if dispatch runs on time: the
-- next active step of each, then the one after it a delay later, and so on; inactive steps and
-- inactive sequences skipped, every time moved into the recipient's send window (behaviour 10).
-- due_at is when dispatch would queue it: an overdue step now, moved into its window. (A 0-hour
-- step after another is queued by the next dispatch call after that time.) Writes nothing.
create or replace function drip.forecast(p_until timestamptz)
returns table (enrollment_id bigint, contact_id bigint, sequence_id bigint, step_id bigint, step_order integer,
               due_at timestamptz)
language sql stable
set search_path = ''
as $$
    with recursive planned as (
        select e.id as enrollment_id, e.contact_id, e.sequence_id, st.id as step_id, st.step_order,
               drip.next_send_time(greatest(e.next_step_due_at, now()), coalesce(c.time_zone, s.time_zone),
                                   s.send_window_start, s.send_window_end, s.send_days_mask) as due_at,
               coalesce(c.time_zone, s.time_zone) as zone, s.send_window_start, s.send_window_end, s.send_days_mask
        from drip.enrollments e
        join drip.sequences s on s.id = e.sequence_id and s.active
        join drip.contacts c on c.id = e.contact_id and c.unsubscribed_at is null and c.bounced_at is null
        cross join lateral (
            select st.id, st.step_order from drip.sequence_steps st
            where st.sequence_id = e.sequence_id and st.active and st.step_order > e.last_step_order_sent
            order by st.step_order limit 1
        ) st
        where e.status = 'active' and e.next_step_due_at <= p_until
      union all
        select p.enrollment_id, p.contact_id, p.sequence_id, nx.id, nx.step_order,
               drip.next_send_time(p.due_at + nx.delay_hours * interval '1 hour', p.zone,
                                   p.send_window_start, p.send_window_end, p.send_days_mask),
               p.zone, p.send_window_start, p.send_window_end, p.send_days_mask
        from planned p
        cross join lateral (
            select st.id, st.step_order, st.delay_hours from drip.sequence_steps st
            where st.sequence_id = p.sequence_id and st.active and st.step_order > p.step_order
            order by st.step_order limit 1
        ) nx
        where p.due_at <= p_until
    )
    select p.enrollment_id, p.contact_id, p.sequence_id, p.step_id, p.step_order, p.due_at
    from planned p
    where p.due_at <= p_until
    order by p.due_at, p.enrollment_id, p.step_order
$$;
comment on function drip.forecast(timestamptz) is
    'The steps active enrollments will be sent until p_until, with windows and zones applied; writes nothing.';
