-- drip.route_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null, p_sequence_ids bigint[] default null, p_exits boolean default true, p_near regclass default null, p_keys text[] default null, p_event_ids bigint[] default null) returns integer
-- Every (contact, value) event, goals first (drip.exit_events, when p_exits), then enrollment
-- (drip.enroll_events); returns the new enrollments. p_keys and p_event_ids: each event's key
-- and drip.events row, for event sequences. Where it runs: next to p_near when given
-- (a trigger passes its TG_RELID); on plain PostgreSQL, here; on the Citus coordinator, inside
-- the shard of a single contact, or inside every shard at once (each takes its own contacts).
-- Inside a shard, reads of reference tables (sequences, tags) are nested distributed queries,
-- which Citus refuses unless allowed: they run on the local placement and see this transaction.
-- Contact-scoped tables are only ever reached through their local shards (drip.local_table).
-- Replaced by the signature below (event keys); dropped when upgrading.
drop function if exists drip.route_events(text, bigint[], text[], date, bigint[], boolean, regclass);
create or replace function drip.route_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null,
    p_sequence_ids bigint[] default null, p_exits boolean default true, p_near regclass default null,
    p_keys text[] default null, p_event_ids bigint[] default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_count integer;
begin
    if coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;
    if p_near is not null or not drip.is_distributed() then
        if p_exits then
            perform drip.exit_events(p_trigger_type, p_contact_ids, p_values, p_near, p_keys);
        end if;
        return drip.enroll_events(p_trigger_type, p_contact_ids, p_values, p_occurrence, p_sequence_ids, p_near,
                                  p_keys, p_event_ids);
    end if;
    -- Citus, on the coordinator: the call below runs on the worker that holds the shard
    if cardinality(p_contact_ids) = 1 then
        select drip.route_events(p_trigger_type, p_contact_ids, p_values, p_occurrence, p_sequence_ids, p_exits,
                                 c.tableoid, p_keys, p_event_ids)
        into v_count
        from drip.contacts c where c.id = p_contact_ids[1];
    else
        select sum(drip.route_events(p_trigger_type, p_contact_ids, p_values, p_occurrence, p_sequence_ids, p_exits,
                                     k.tableoid, p_keys, p_event_ids))
        into v_count
        from drip.shard_keys k;
    end if;
    return coalesce(v_count, 0);
end
$$;
revoke all on function drip.route_events(text, bigint[], text[], date, bigint[], boolean, regclass, text[], bigint[]) from public;
comment on function drip.route_events(text, bigint[], text[], date, bigint[], boolean, regclass, text[], bigint[]) is
    'Ends matching goals, then enrolls each (contact, value) event; on Citus, inside the shards that hold the contacts.';
