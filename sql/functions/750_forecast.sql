-- drip.forecast(p_until timestamptz) returns table (enrollment_id bigint, contact_id bigint, sequence_id bigint, step_id bigint, step_order integer, due_at timestamptz)
-- Every step that active enrollments will be sent until p_until if dispatch runs on time: the
-- next active step of each, then the one after it a delay later, and so on; inactive steps and
-- inactive sequences skipped, every time moved into the recipient's send window (behaviour 10).
-- due_at is when dispatch would queue it: an overdue step now, moved into its window. (A 0-hour
-- step after another is queued by the next dispatch call after that time.) Writes nothing.
-- drip.forecast_shard(p_near regclass, p_until timestamptz) is the same over the tables next to
-- p_near (drip.local_table): on Citus, drip.forecast runs it inside every shard at once, as a
-- recursive query over distributed tables is not planned there.
create or replace function drip.forecast_shard(p_near regclass, p_until timestamptz)
returns table (enrollment_id bigint, contact_id bigint, sequence_id bigint, step_id bigint, step_order integer,
               due_at timestamptz)
language plpgsql stable
set search_path = ''
set citus.allow_nested_distributed_execution = on  -- see drip.route_events
as $$
-- @plpgsql_check_options: extra_warnings = off
-- (the OUT columns are filled by RETURN QUERY EXECUTE, which the checker cannot follow)
begin
    return query execute format($sql$
    with recursive planned as (
        select e.id as enrollment_id, e.contact_id, e.sequence_id, st.id as step_id, st.step_order,
               drip.next_send_time(greatest(e.next_step_due_at, now()), coalesce(c.time_zone, s.time_zone),
                                   s.send_window_start, s.send_window_end, s.send_days_mask) as due_at,
               coalesce(c.time_zone, s.time_zone) as zone, s.send_window_start, s.send_window_end, s.send_days_mask
        from %1$s e
        join %2$s s on s.id = e.sequence_id and s.active
        join %3$s c on c.id = e.contact_id and c.unsubscribed_at is null and c.bounced_at is null
        cross join lateral (
            select st.id, st.step_order from %4$s st
            where st.sequence_id = e.sequence_id and st.active and st.step_order > e.last_step_order_sent
            order by st.step_order limit 1
        ) st
        where e.status = 'active' and e.next_step_due_at <= $1
      union all
        select p.enrollment_id, p.contact_id, p.sequence_id, nx.id, nx.step_order,
               drip.next_send_time(p.due_at + nx.delay_hours * interval '1 hour', p.zone,
                                   p.send_window_start, p.send_window_end, p.send_days_mask),
               p.zone, p.send_window_start, p.send_window_end, p.send_days_mask
        from planned p
        cross join lateral (
            select st.id, st.step_order, st.delay_hours from %4$s st
            where st.sequence_id = p.sequence_id and st.active and st.step_order > p.step_order
            order by st.step_order limit 1
        ) nx
        where p.due_at <= $1
    )
    select p.enrollment_id, p.contact_id, p.sequence_id, p.step_id, p.step_order, p.due_at
    from planned p
    where p.due_at <= $1
    order by p.due_at, p.enrollment_id, p.step_order$sql$,
        drip.local_table(p_near, 'enrollments'), drip.local_table(p_near, 'sequences'),
        drip.local_table(p_near, 'contacts'), drip.local_table(p_near, 'sequence_steps'))
    using p_until;
end
$$;

create or replace function drip.forecast(p_until timestamptz)
returns table (enrollment_id bigint, contact_id bigint, sequence_id bigint, step_id bigint, step_order integer,
               due_at timestamptz)
language plpgsql stable
set search_path = ''
as $$
begin
    if drip.is_distributed() then
        return query
        select (f.r).* from (select drip.forecast_shard(k.tableoid, p_until) as r from drip.shard_keys k) f
        order by 6, 1, 5;
    else
        return query select * from drip.forecast_shard(null, p_until);
    end if;
end
$$;
comment on function drip.forecast(timestamptz) is
    'The steps active enrollments will be sent until p_until, with windows and zones applied; writes nothing.';
