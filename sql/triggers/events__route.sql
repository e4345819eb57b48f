-- trigger drip.tg_events__route() on drip.events, after insert, per statement
-- What inserted events do, in the writer's transaction, each step set-based over the whole
-- statement: goals first (exit_trigger_type 'event', drip.exit_events), then exit conditions and
-- segments that read events (drip.condition_events), then waits (drip.end_waits), then
-- enrollment into event sequences (drip.enroll_events). Nothing when no sequence cares about
-- events.
create or replace function drip.tg_events__route() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_contacts bigint[];
    v_names text[];
    v_keys text[];
    v_occurred timestamptz[];
begin
    if not exists (select from drip.sequences s
                   where (s.active and s.trigger_type = 'event') or s.exit_trigger_type = 'event')
       and not exists (select from drip.sequence_steps st where st.wait_for_event is not null and st.active)
       and not drip.conditions_read('event') then
        return null;
    end if;
    -- the transition table read on its own: on Citus, joining it with a Citus table fails
    select array_agg(n.id order by n.id), array_agg(n.contact_id order by n.id), array_agg(n.name order by n.id),
           array_agg(n.key order by n.id), array_agg(n.occurred_at order by n.id)
    into v_ids, v_contacts, v_names, v_keys, v_occurred
    from new_rows n;
    perform drip.exit_events('event', v_contacts, v_names, tg_relid, v_keys);
    if drip.conditions_read('event') then
        perform drip.condition_events('event', (select array_agg(distinct c) from unnest(v_contacts) c), tg_relid);
    end if;
    perform drip.end_waits(v_contacts, v_names, v_keys, v_occurred, tg_relid);
    perform drip.enroll_events('event', v_contacts, v_names, null, null, tg_relid, v_keys, v_ids);
    return null;
end
$$;
create or replace trigger events__route
    after insert on drip.events
    referencing new table as new_rows
    for each statement execute function drip.tg_events__route();
