-- drip.build_segment(p_sequence_id bigint, p_condition jsonb, p_near regclass default null) returns integer
-- Makes drip.segment_members hold, for one sequence, exactly the contacts that match p_condition
-- now (its entry_condition, while it is an active segment), or nobody (NULL). Called when a
-- segment is created, activated or given a new condition (sequences__segments): the contacts who
-- already match then are members without entering, so only drip.enroll_matching enrolls them
-- (behaviour 21). One statement over every contact: it costs a scan of drip.contacts, once per
-- such change. Next to p_near on Citus (the shard holding those contacts). Returns the members.
-- It is given the condition (not its sequence's id alone): on Citus it runs from a trigger on
-- a node's placement of drip.sequences, where reading that table again is best avoided.
create or replace function drip.build_segment(p_sequence_id bigint, p_condition jsonb, p_near regclass default null)
returns integer
language plpgsql volatile
security definer
set search_path = ''
set jit = off
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_members text := drip.local_table(p_near, 'segment_members');
    v_count integer := 0;
begin
    execute format('delete from %s m where m.sequence_id = $1', v_members) using p_sequence_id;
    if p_condition is not null then
        execute format('insert into %s (sequence_id, contact_id) select $1, c.id from %s c where %s',
                       v_members, drip.local_table(p_near, 'contacts'),
                       drip.condition_predicate(p_condition, false, 'now()', p_near))
        using p_sequence_id;
        get diagnostics v_count = row_count;
    end if;
    return v_count;
end
$$;
revoke all on function drip.build_segment(bigint, jsonb, regclass) from public;

-- drip.enroll_matching(p_sequence_id bigint) returns integer
-- Enrolls into a segment sequence every contact who matches its entry_condition now, has no
-- active enrollment in it, and is allowed by its reentry rule (unsubscribed and bounced
-- contacts never); refreshes its members on the way. The contacts who already matched when the
-- segment was created or activated are enrolled only this way (behaviour 21). An inactive
-- sequence enrolls nobody: 0. Returns how many it enrolled.
create or replace function drip.enroll_matching(p_sequence_id bigint) returns integer
language plpgsql volatile
security definer
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_sequence drip.sequences;
    v_count integer;
begin
    select * into v_sequence from drip.sequences s where s.id = p_sequence_id;
    if v_sequence.id is null then
        raise exception 'sequence % does not exist', coalesce(p_sequence_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_sequence_id', detail = 'field: p_sequence_id',
                  hint = 'Pass the id of a row in drip.sequences.';
    end if;
    if v_sequence.trigger_type <> 'segment' then
        raise exception 'sequence % is not a segment sequence (its trigger is %)', p_sequence_id, v_sequence.trigger_type
            using errcode = '22023', column = 'p_sequence_id', detail = 'field: p_sequence_id',
                  hint = 'drip.enroll_matching enrolls into sequences whose trigger_type is segment.';
    end if;
    if not v_sequence.active then
        return 0;
    end if;
    if drip.is_distributed() then
        select sum(drip.enroll_matching_shard(p_sequence_id, v_sequence.entry_condition, k.tableoid)) into v_count
        from drip.shard_keys k;
        return coalesce(v_count, 0);
    end if;
    return drip.enroll_matching_shard(p_sequence_id, v_sequence.entry_condition, null);
end
$$;
revoke all on function drip.enroll_matching(bigint) from public;
comment on function drip.enroll_matching(bigint) is
    'Enrolls into a segment sequence every contact who matches it now (and may enter); returns how many.';

-- drip.enroll_matching_shard(p_sequence_id bigint, p_condition jsonb, p_near regclass) returns integer
-- drip.enroll_matching for the contacts next to p_near (all of them on one server).
create or replace function drip.enroll_matching_shard(p_sequence_id bigint, p_condition jsonb, p_near regclass)
returns integer
language plpgsql volatile
security definer
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_contacts bigint[];
begin
    perform drip.build_segment(p_sequence_id, p_condition, p_near);
    execute format('select array_agg(m.contact_id order by m.contact_id) from %s m where m.sequence_id = $1',
                   drip.local_table(p_near, 'segment_members'))
    into v_contacts
    using p_sequence_id;
    if v_contacts is null then
        return 0;
    end if;
    return drip.enroll_events('segment', v_contacts, array_fill(p_sequence_id::text, array[cardinality(v_contacts)]),
                              null, array[p_sequence_id], p_near);
end
$$;
revoke all on function drip.enroll_matching_shard(bigint, jsonb, regclass) from public;
