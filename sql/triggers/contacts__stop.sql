-- trigger drip.tg_contacts__stop() on drip.contacts, after update, per statement
-- Unsubscribing (unsubscribed_at set) or bouncing (bounced_at set) cancels the contact's active
-- enrollments and its unsent mail in the same transaction: queued rows, and rows in flight (a
-- runner checks before it hands a message over; one it had already handed over is recorded as
-- sent, see drip.finish_outbox). Enrollments first: that waits for a dispatcher holding them.
-- Unsubscribing leaves transactional sequences be (behaviour 23: a receipt is still sent); a
-- bounce stops them too.
create or replace function drip.tg_contacts__stop() returns trigger
language plpgsql
security definer
set search_path = ''
-- reads configuration (reference tables on Citus) from inside a shard: see drip.route_events
set citus.allow_nested_distributed_execution = on
as $$
declare
    -- the contacts this statement stopped, and why (the transition tables read on their own: on
    -- Citus, joining them with a Citus table fails)
    v_ids bigint[];
    v_reasons text[];
    v_kept bigint[];
begin
    select array_agg(n.id),
           array_agg(case when n.bounced_at is not null and o.bounced_at is null then 'contact bounced'
                          else 'contact unsubscribed' end)
    into v_ids, v_reasons
    from new_rows n join old_rows o on o.id = n.id
    where (n.unsubscribed_at is not null and o.unsubscribed_at is null)
       or (n.bounced_at is not null and o.bounced_at is null);
    if v_ids is null then
        return null;
    end if;

    -- the transactional sequences an unsubscribe leaves be (none: one plain statement each below)
    select array_agg(q.id) into v_kept from drip.sequences q where q.message_class = 'transactional';

    execute format($sql$
        update %s e
        set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
        from unnest($1, $2) as x (id, reason)
        where e.contact_id = x.id and e.status = 'active'
          and (x.reason = 'contact bounced' or $3 is null or e.sequence_id <> all ($3))$sql$,
        drip.local_table(tg_relid, 'enrollments'))
    using v_ids, v_reasons, v_kept;

    execute format($sql$
        update %s ob
        set status = 'cancelled', last_error = x.reason
        from unnest($1, $2) as x (id, reason)
        where ob.contact_id = x.id and ob.status in ('queued', 'sending')
          and (x.reason = 'contact bounced' or $3 is null
               or not exists (select from %s st where st.id = ob.step_id and st.sequence_id = any ($3)))$sql$,
        drip.local_table(tg_relid, 'outbox'), drip.local_table(tg_relid, 'sequence_steps'))
    using v_ids, v_reasons, v_kept;
    return null;
end
$$;
revoke all on function drip.tg_contacts__stop() from public;
create or replace trigger contacts__stop
    after update on drip.contacts
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_contacts__stop();
