-- trigger drip.tg_topic_unsubscribes__stop() on drip.topic_unsubscribes, after insert, per statement
-- Leaving a topic (behaviour 23) cancels, in the writer's transaction, the contact's active
-- enrollments in that topic's marketing sequences and their unsent mail (queued, and in flight:
-- a runner checks before it hands a message over, as for unsubscribing). Enrollments first, in id
-- order: that waits for a dispatcher holding them. Other topics and transactional mail go on.
create or replace function drip.tg_topic_unsubscribes__stop() returns trigger
language plpgsql
security definer
set search_path = ''
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_contacts bigint[];
    v_topics bigint[];
    v_ids bigint[];
begin
    -- the transition table read on its own: on Citus, joining it with a Citus table fails
    select array_agg(n.contact_id), array_agg(n.topic_id) into v_contacts, v_topics from new_rows n;
    execute format($sql$
        select array_agg(e.id order by e.id)
        from unnest($1, $2) as u (contact_id, topic_id)
        join %s s on s.topic_id = u.topic_id and s.message_class = 'marketing'
        join %s e on e.contact_id = u.contact_id and e.sequence_id = s.id and e.status = 'active'$sql$,
        drip.local_table(tg_relid, 'sequences'), drip.local_table(tg_relid, 'enrollments'))
    into v_ids
    using v_contacts, v_topics;
    if v_ids is null then
        return null;
    end if;
    execute format($sql$
        update %s e set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
        where e.id = any ($1) and e.status = 'active'$sql$, drip.local_table(tg_relid, 'enrollments'))
    using v_ids;
    execute format($sql$
        update %s o set status = 'cancelled', last_error = 'contact left the topic'
        where o.enrollment_id = any ($1) and o.status in ('queued', 'sending')$sql$, drip.local_table(tg_relid, 'outbox'))
    using v_ids;
    return null;
end
$$;
revoke all on function drip.tg_topic_unsubscribes__stop() from public;
create or replace trigger topic_unsubscribes__stop
    after insert on drip.topic_unsubscribes
    referencing new table as new_rows
    for each statement execute function drip.tg_topic_unsubscribes__stop();
