-- drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer) returns setof drip.outbox
-- Leases up to p_limit sendable rows (queued and due, or sending with an expired lease) to one
-- runner with SKIP LOCKED. Among the rows it picks, it never hands out:
--   - a row of an unsubscribed or bounced contact: cancelled (the last line of behaviour 6);
--   - a row whose lease ran out drip.outbox_max_attempts() times: failed, since each expiry
--     means a runner died or hung while sending it (a message that kills its runner is not
--     tried forever).
-- Only the picked rows are judged, so a claim costs the same whatever the backlog.
create or replace function drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer)
returns setof drip.outbox
language plpgsql volatile
set search_path = ''
as $$
declare
    v_max constant integer := drip.outbox_max_attempts();
    v_picked integer;
    v_ids bigint[];
begin
    if p_runner is null or p_limit is null or p_limit < 1 or p_lease_seconds is null or p_lease_seconds < 1 then
        raise exception 'claim_outbox needs a runner name, a limit of 1 or more and a lease of 1 second or more'
            using errcode = '22023', column = 'p_limit', detail = 'field: p_runner, p_limit, p_lease_seconds';
    end if;
    loop
        -- pick and lock; close what must not be sent; keep the ids of the rest
        with picked as (
            select o.id, o.contact_id, o.status, o.attempts from drip.outbox o
            where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
            order by o.next_attempt_at, o.id
            limit p_limit
            for update skip locked
        ), judged as (
            select p.id,
                   case when c.id is null or c.unsubscribed_at is not null or c.bounced_at is not null then 'cancelled'
                        when p.status = 'sending' and p.attempts >= v_max then 'failed' end as closing,
                   case when c.bounced_at is not null then 'contact bounced'
                        when c.id is null or c.unsubscribed_at is not null then 'contact unsubscribed'
                        else format('no result after %s attempts: the runner holding it died or hung past its lease',
                                    p.attempts) end as reason
            from picked p
            left join drip.contacts c on c.id = p.contact_id
        ), closed as (
            update drip.outbox o
            set status = j.closing, last_error = j.reason, locked_by = null
            from judged j
            where o.id = j.id and j.closing is not null
        )
        select count(*), array_agg(j.id) filter (where j.closing is null) into v_picked, v_ids
        from judged j;

        -- the rows stay locked by this transaction until it ends: lease them
        return query
            update drip.outbox o
            set status = 'sending', locked_by = p_runner, attempts = o.attempts + 1,
                next_attempt_at = now() + p_lease_seconds * interval '1 second'
            where o.id = any (v_ids)
            returning o.*;
        -- everything picked was closed: pick again, so a run of stopped rows never looks like an empty queue
        exit when v_ids is not null or v_picked = 0;
    end loop;
end
$$;
