-- trigger drip.tg_sequences__segments() on drip.sequences, after insert, update or delete, per row
-- Keeps a segment's members (drip.segment_members) true to its condition: built whole when an
-- active segment is created, activated or given a new entry_condition (the contacts who match
-- then are members without entering: behaviour 21), cleared when it stops being one.
-- drip.build_segment does it for each shard of contacts on this node (drip.local_shards: on
-- Citus this trigger fires on every node's placement of drip.sequences).
create or replace function drip.tg_sequences__segments() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_was boolean := tg_op <> 'INSERT' and old.trigger_type = 'segment' and old.active;
    v_is boolean := tg_op <> 'DELETE' and new.trigger_type = 'segment' and new.active;
begin
    if v_is and (not v_was or new.entry_condition is distinct from old.entry_condition) or v_was and not v_is then
        perform drip.build_segment(case when tg_op = 'DELETE' then old.id else new.id end,
                                   case when v_is then new.entry_condition end, shard)
        from drip.local_shards('contacts') shard;
    end if;
    return null;
end
$$;
revoke all on function drip.tg_sequences__segments() from public;
create or replace trigger sequences__segments
    after insert or update or delete on drip.sequences
    for each row execute function drip.tg_sequences__segments();
