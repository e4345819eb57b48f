-- drip.exit_events(p_trigger_type text, p_contact_ids bigint[], p_values text[]) returns integer
-- Goals (behaviour 12), set-based: every (contact, value) event ends the contact's active
-- enrollment in each sequence whose goal (exit_trigger_type, exit_trigger_value, the same value
-- rules as triggers) it matches, active sequence or not: status 'exited', exited_at now, and
-- its queued or in-flight mail cancelled. Returns how many enrollments exited.
-- The enrollments are updated in id order (so concurrent bulk events lock in one order and
-- cannot deadlock), and the mail is cancelled by another statement, whose snapshot sees what a
-- dispatcher that held one of them committed meanwhile.
create or replace function drip.exit_events(p_trigger_type text, p_contact_ids bigint[], p_values text[])
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
begin
    select array_agg(s.id order by s.id), array_agg(s.exit_trigger_value order by s.id)
    into v_sequence_ids, v_sequence_values
    from drip.sequences s
    where s.exit_trigger_type = p_trigger_type;
    if v_sequence_ids is null or coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    select array_agg(a.id) into v_hit
    from unnest(p_contact_ids, p_values) as ev (contact_id, value)
    join unnest(v_sequence_ids, v_sequence_values) as s (id, exit_value)
      on s.exit_value is null
         or case when p_trigger_type = 'tag_added' then lower(s.exit_value) = lower(ev.value)
                 else s.exit_value = ev.value end
    join drip.enrollments a on a.sequence_id = s.id and a.contact_id = ev.contact_id and a.status = 'active';
    if v_hit is null then
        return 0;
    end if;
    -- = ANY on the primary key visits the ids in ascending order: every writer locks in one order
    with exited as (
        update drip.enrollments e
        set status = 'exited', exited_at = now(), next_step_due_at = null
        where e.id = any (v_hit) and e.status = 'active'
        returning e.id
    )
    select array_agg(x.id) into v_exited from exited x;
    if v_exited is null then
        return 0;
    end if;

    update drip.outbox o
    set status = 'cancelled', last_error = 'the contact reached the sequence''s goal'
    from unnest(v_exited) as x (id)
    where o.enrollment_id = x.id and o.status in ('queued', 'sending');
    return cardinality(v_exited);
end
$$;
revoke all on function drip.exit_events(text, bigint[], text[]) from public;
comment on function drip.exit_events(text, bigint[], text[]) is
    'Ends, as exited, the active enrollments whose sequence''s goal each (contact, value) event matches.';
