-- drip.end_waits(p_contact_ids bigint[], p_names text[], p_keys text[], p_occurred timestamptz[], p_near regclass default null) returns integer
-- Waits (behaviour 20), set-based: each event (contact, name, key, occurred_at) makes due the
-- contact's active enrollments whose next active step waits for that name (case-insensitive),
-- when the event matches the enrollment's key (a keyed event: its key or none; a keyless one:
-- all) and happened after the previous step was sent (for step 1: after enrolling). The step is
-- then due at the earlier of its usual time and the event's occurred_at moved into the send
-- window. Enrollments are updated in id order (one lock order for every writer). Returns how
-- many moved; wakes the dispatcher when one is due now. Next to p_near on Citus.
create or replace function drip.end_waits(
    p_contact_ids bigint[], p_names text[], p_keys text[], p_occurred timestamptz[], p_near regclass default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
set jit = off
-- reads configuration (reference tables on Citus) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_ids bigint[];
    v_due timestamptz[];
    v_count integer;
    v_enrollments constant text := drip.local_table(p_near, 'enrollments');
begin
    if coalesce(cardinality(p_contact_ids), 0) = 0
       or not exists (select from drip.sequence_steps st
                      where st.wait_for_event is not null and st.active
                        and lower(st.wait_for_event) in (select lower(n) from unnest(p_names) n)) then
        return 0;
    end if;
    execute format($sql$
        select array_agg(w.id order by w.id), array_agg(w.due order by w.id)
        from (
            select e.id, e.next_step_due_at,
                   min(drip.next_send_time(ev.occurred_at, coalesce(c.time_zone, s.time_zone), s.send_window_start,
                                           s.send_window_end, s.send_days_mask)) as due
            from unnest($1, $2, $3, $4) as ev (contact_id, name, key, occurred_at)
            join %1$s e on e.contact_id = ev.contact_id and e.status = 'active'
                       and (ev.key is null or e.event_key is null or e.event_key = ev.key)
                       and ev.occurred_at >= coalesce(e.last_step_sent_at, e.enrolled_at)
            join %2$s s on s.id = e.sequence_id
            join lateral (select st.wait_for_event from %3$s st
                          where st.sequence_id = e.sequence_id and st.active and st.step_order > e.last_step_order_sent
                          order by st.step_order limit 1) cur on lower(cur.wait_for_event) = lower(ev.name)
            left join %4$s c on c.id = e.contact_id
            group by e.id, e.next_step_due_at
        ) w
        where w.due < coalesce(w.next_step_due_at, 'infinity')$sql$,
        v_enrollments, drip.local_table(p_near, 'sequences'), drip.local_table(p_near, 'sequence_steps'),
        drip.local_table(p_near, 'contacts'))
    into v_ids, v_due
    using p_contact_ids, p_names, p_keys, p_occurred;
    if v_ids is null then
        return 0;
    end if;
    execute format($sql$
        update %s e set next_step_due_at = w.due
        from unnest($1, $2) as w (id, due)
        where e.id = w.id and e.status = 'active' and e.next_step_due_at > w.due$sql$, v_enrollments)
    using v_ids, v_due;
    get diagnostics v_count = row_count;
    -- wake the runner if one is due now (not from inside a Citus shard: see drip.enroll_events)
    if v_count > 0 and (select min(d) from unnest(v_due) d) <= now() and v_enrollments = 'drip.enrollments' then
        perform pg_notify('drip_due', '');
    end if;
    return v_count;
end
$$;
revoke all on function drip.end_waits(bigint[], text[], text[], timestamptz[], regclass) from public;
comment on function drip.end_waits(bigint[], text[], text[], timestamptz[], regclass) is
    'Makes due now the enrollments whose next step waits for one of these events.';
