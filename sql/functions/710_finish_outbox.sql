-- drip.finish_outbox(p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null) returns integer
-- Records what happened to rows this runner leased:
--   sent     handed over; recorded even if the row was cancelled while in flight, because it was sent;
--   retry    temporary failure: again after 30 s, doubling to 1 h; failed after outbox_max_attempts();
--   failed   permanent failure: a reply meaning the mailbox does not exist (drip.is_mailbox_gone)
--            also marks the contact bounced, which cancels its enrollments and mail (contacts__stop)
--            in this same transaction;
--   release  handed back untried.
-- Returns how many rows it recorded.
create or replace function drip.finish_outbox(
    p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null
) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_max constant integer := drip.outbox_max_attempts();
    v_count integer;
begin
    if p_outcome is null or p_outcome not in ('sent', 'retry', 'failed', 'release') then
        raise exception 'unknown outcome: %', coalesce(quote_literal(p_outcome), 'NULL')
            using errcode = '22023', column = 'p_outcome', detail = 'field: p_outcome',
                  hint = 'Use sent, retry, failed or release.';
    end if;
    if p_outcome = 'sent' then
        update drip.outbox o
        set status = 'sent', sent_at = now(), locked_by = null
        where o.id = any (p_ids) and o.locked_by = p_runner and o.status in ('sending', 'cancelled');
        get diagnostics v_count = row_count;
        return v_count;
    end if;

    with done as (
        update drip.outbox o
        set status = case
                when p_outcome = 'failed' then 'failed'
                when p_outcome = 'retry' and o.attempts >= v_max then 'failed'
                else 'queued' end,
            last_error = case when p_outcome in ('retry', 'failed') then left(r.error, 2000) else o.last_error end,
            attempts = case when p_outcome = 'release' then greatest(o.attempts - 1, 0) else o.attempts end,
            next_attempt_at = case
                when p_outcome = 'retry' then now() + least(30 * power(2, greatest(o.attempts - 1, 0)), 3600) * interval '1 second'
                when p_outcome = 'release' then now()
                else o.next_attempt_at end,
            locked_by = null
        from unnest(p_ids, coalesce(p_errors, array[]::text[])) as r (id, error)
        where o.id = r.id and o.status = 'sending' and o.locked_by = p_runner
        returning o.contact_id, o.status, r.error
    ), bounced as (
        update drip.contacts c
        set bounced_at = now()
        where c.id in (select d.contact_id from done d where d.status = 'failed' and drip.is_mailbox_gone(d.error))
          and c.bounced_at is null
    )
    select count(*) into v_count from done;
    return v_count;
end
$$;
