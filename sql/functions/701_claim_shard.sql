-- drip.claim_shard(p_near regclass, p_runner text, p_limit integer, p_lease_seconds integer) returns bigint[]
-- The work of drip.claim_outbox next to p_near (the whole outbox on plain PostgreSQL, one shard
-- on Citus, where SKIP LOCKED runs only inside a shard): picks up to p_limit sendable rows,
-- closes those that must not be sent (cancelled: the contact unsubscribed or bounced; failed:
-- the lease ran out drip.outbox_max_attempts() times), leases the rest to p_runner and returns
-- their ids. Loops while everything it picked was closed, so a run of stopped rows never looks
-- like an empty queue.
create or replace function drip.claim_shard(p_near regclass, p_runner text, p_limit integer, p_lease_seconds integer)
returns bigint[]
language plpgsql volatile
set search_path = ''
set citus.allow_nested_distributed_execution = on  -- see drip.route_events
as $$
declare
    v_max constant integer := drip.outbox_max_attempts();
    v_outbox constant text := drip.local_table(p_near, 'outbox');
    v_contacts constant text := drip.local_table(p_near, 'contacts');
    v_picked integer;
    v_ids bigint[];
    v_leased bigint[];
begin
    loop
        -- pick and lock; close what must not be sent; keep the ids of the rest
        execute format($sql$
            with picked as (
                select o.id, o.contact_id, o.status, o.attempts from %1$s o
                where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
                order by o.next_attempt_at, o.id
                limit $1
                for update skip locked
            ), judged as (
                select p.id, p.contact_id,
                       case when c.id is null or c.unsubscribed_at is not null or c.bounced_at is not null
                                 then 'cancelled'
                            when p.status = 'sending' and p.attempts >= $2 then 'failed' end as closing,
                       case when c.bounced_at is not null then 'contact bounced'
                            when c.id is null or c.unsubscribed_at is not null then 'contact unsubscribed'
                            else format('no result after %%s attempts: the runner holding it died or hung past its lease',
                                        p.attempts) end as reason
                from picked p
                left join %2$s c on c.id = p.contact_id
            ), closed as (
                update %1$s o
                set status = j.closing, last_error = j.reason, locked_by = null
                from judged j
                where o.id = j.id and o.contact_id = j.contact_id and j.closing is not null
            )
            select count(*), array_agg(j.id) filter (where j.closing is null) from judged j$sql$,
            v_outbox, v_contacts)
        into v_picked, v_ids
        using p_limit, v_max;

        -- the rows stay locked by this transaction until it ends: lease them
        execute format($sql$
            with leased as (
                update %s o
                set status = 'sending', locked_by = $1, attempts = o.attempts + 1,
                    next_attempt_at = now() + $2 * interval '1 second'
                where o.id = any ($3)
                returning o.id
            )
            select array_agg(l.id) from leased l$sql$, v_outbox)
        into v_leased
        using p_runner, p_lease_seconds, v_ids;
        exit when v_ids is not null or v_picked = 0;
    end loop;
    return v_leased;
end
$$;
