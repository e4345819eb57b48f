-- drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer) returns setof drip.outbox
-- Leases up to p_limit sendable rows (queued and due, or sending with an expired lease) to
-- one runner with SKIP LOCKED. A row of an unsubscribed contact is cancelled, never handed out.
create or replace function drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer)
returns setof drip.outbox
language plpgsql volatile
set search_path = ''
as $$
begin
    -- Last line of defence for behaviour 6: whatever slipped past, nobody unsubscribed is mailed.
    update drip.outbox o set status = 'cancelled', last_error = 'contact unsubscribed'
    from drip.contacts c
    where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
      and c.id = o.contact_id and c.unsubscribed_at is not null;

    return query
    with picked as (
        select o.id from drip.outbox o
        where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
        order by o.next_attempt_at, o.id
        limit p_limit
        for update skip locked
    )
    update drip.outbox o
    set status = 'sending', locked_by = p_runner, attempts = o.attempts + 1,
        next_attempt_at = now() + p_lease_seconds * interval '1 second'
    from picked
    where o.id = picked.id
    returning o.*;
end
$$;
