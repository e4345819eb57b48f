-- drip.exit_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_near regclass default null, p_keys text[] default null) returns integer
-- Goals (behaviour 12), set-based: every (contact, value) event ends the contact's active
-- enrollment in each sequence whose goal (exit_trigger_type, exit_trigger_value, the same value
-- rules as triggers) it matches, active sequence or not (drip.exit_enrollments). An event goal
-- (behaviour 17) matches names case-insensitively, and a keyed event (p_keys beside the
-- contacts) only the enrollments with its key or without one; a keyless event all of them.
-- Returns how many enrollments exited. On Citus it runs inside one shard (p_near, see
-- drip.local_table), for the contacts that live there.

-- Replaced by the signature below (event keys); dropped when upgrading.
drop function if exists drip.exit_events(text, bigint[], text[]);
drop function if exists drip.exit_events(text, bigint[], text[], regclass);
create or replace function drip.exit_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_near regclass default null,
    p_keys text[] default null
)
returns integer
language plpgsql volatile
security definer
set search_path = ''
set work_mem = '64MB'
set jit = off
-- reads configuration (reference tables on Citus) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_sequence_ids bigint[];
    v_sequence_values text[];
    v_hit bigint[];
begin
    select array_agg(s.id order by s.id), array_agg(s.exit_trigger_value order by s.id)
    into v_sequence_ids, v_sequence_values
    from drip.sequences s
    where s.exit_trigger_type = p_trigger_type;
    if v_sequence_ids is null or coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    execute format($sql$
        select array_agg(distinct a.id)
        from unnest($1, $2, $6) as ev (contact_id, value, key)
        join unnest($3, $4) as s (id, exit_value)
          on s.exit_value is null
             or case when $5 in ('tag_added', 'event') then lower(s.exit_value) = lower(ev.value)
                     else s.exit_value = ev.value end
        join %s a on a.sequence_id = s.id and a.contact_id = ev.contact_id and a.status = 'active'
                 and (ev.key is null or a.event_key is null or a.event_key = ev.key)$sql$,
        drip.local_table(p_near, 'enrollments'))
    into v_hit
    using p_contact_ids, p_values, v_sequence_ids, v_sequence_values, p_trigger_type, p_keys;
    return drip.exit_enrollments(v_hit, 'the contact reached the sequence''s goal', p_near);
end
$$;
revoke all on function drip.exit_events(text, bigint[], text[], regclass, text[]) from public;
comment on function drip.exit_events(text, bigint[], text[], regclass, text[]) is
    'Ends, as exited, the active enrollments whose sequence''s goal each (contact, value) event matches.';
