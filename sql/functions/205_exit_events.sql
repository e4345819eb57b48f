-- drip.exit_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_near regclass default null) returns integer
-- Goals (behaviour 12), set-based: every (contact, value) event ends the contact's active
-- enrollment in each sequence whose goal (exit_trigger_type, exit_trigger_value, the same value
-- rules as triggers) it matches, active sequence or not: status 'exited', exited_at now, and
-- its queued or in-flight mail cancelled. Returns how many enrollments exited.
-- The enrollments are updated in id order (so concurrent bulk events lock in one order and
-- cannot deadlock), and the mail is cancelled by another statement, whose snapshot sees what a
-- dispatcher that held one of them committed meanwhile. On Citus it runs inside one shard
-- (p_near, see drip.local_table), for the contacts that live there.

-- Replaced by the signature below (p_near, for Citus); dropped when upgrading.
drop function if exists drip.exit_events(text, bigint[], text[]);
create or replace function drip.exit_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_near regclass default null
)
returns integer
language plpgsql volatile
security definer
set search_path = ''
set work_mem = '64MB'
set jit = off
as $$
declare
    v_sequence_ids bigint[];
    v_sequence_values text[];
    v_hit bigint[];
    v_exited bigint[];
    v_enrollments constant text := drip.local_table(p_near, 'enrollments');
begin
    select array_agg(s.id order by s.id), array_agg(s.exit_trigger_value order by s.id)
    into v_sequence_ids, v_sequence_values
    from drip.sequences s
    where s.exit_trigger_type = p_trigger_type;
    if v_sequence_ids is null or coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    execute format($sql$
        select array_agg(a.id)
        from unnest($1, $2) as ev (contact_id, value)
        join unnest($3, $4) as s (id, exit_value)
          on s.exit_value is null
             or case when $5 = 'tag_added' then lower(s.exit_value) = lower(ev.value)
                     else s.exit_value = ev.value end
        join %s a on a.sequence_id = s.id and a.contact_id = ev.contact_id and a.status = 'active'$sql$,
        v_enrollments)
    into v_hit
    using p_contact_ids, p_values, v_sequence_ids, v_sequence_values, p_trigger_type;
    if v_hit is null then
        return 0;
    end if;
    -- = ANY on the primary key visits the ids in ascending order: every writer locks in one order
    execute format($sql$
        with exited as (
            update %s e
            set status = 'exited', exited_at = now(), next_step_due_at = null
            where e.id = any ($1) and e.status = 'active'
            returning e.id
        )
        select array_agg(x.id) from exited x$sql$, v_enrollments)
    into v_exited
    using v_hit;
    if v_exited is null then
        return 0;
    end if;

    execute format($sql$
        update %s o
        set status = 'cancelled', last_error = 'the contact reached the sequence''s goal'
        from unnest($1) as x (id)
        where o.enrollment_id = x.id and o.status in ('queued', 'sending')$sql$, drip.local_table(p_near, 'outbox'))
    using v_exited;
    return cardinality(v_exited);
end
$$;
revoke all on function drip.exit_events(text, bigint[], text[], regclass) from public;
comment on function drip.exit_events(text, bigint[], text[], regclass) is
    'Ends, as exited, the active enrollments whose sequence''s goal each (contact, value) event matches.';
