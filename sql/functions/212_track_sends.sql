-- drip.track_sends(p_near regclass default null) returns integer
-- Makes drip.contact_sends (next to p_near on Citus) fit the caps: with no cap, empty; else
-- holding the marketing mail of the longest cap's period that the outbox has and it has not yet
-- (not cancelled, counted at its created_at). The frequency_caps__track trigger calls it when
-- caps change: it scans that period of the outbox once. Returns the rows it added.
create or replace function drip.track_sends(p_near regclass default null) returns integer
language plpgsql volatile
security definer
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_per interval;
    v_sends constant text := drip.local_table(p_near, 'contact_sends');
    v_count integer;
begin
    select max(c.per) into v_per from drip.frequency_caps c;
    if v_per is null then
        execute format('delete from %s', v_sends);
        return 0;
    end if;
    execute format($sql$
        insert into %1$s (contact_id, queued_at, outbox_id)
        select o.contact_id, o.created_at, o.id
        from %2$s o
        join %3$s st on st.id = o.step_id
        join %4$s s on s.id = st.sequence_id
        where s.message_class = 'marketing' and o.status <> 'cancelled' and o.created_at > now() - $1
          and not exists (select from %1$s cs where cs.contact_id = o.contact_id and cs.outbox_id = o.id)$sql$,
        v_sends, drip.local_table(p_near, 'outbox'), drip.local_table(p_near, 'sequence_steps'),
        drip.local_table(p_near, 'sequences'))
    using v_per;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
revoke all on function drip.track_sends(regclass) from public;
