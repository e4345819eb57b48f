-- drip.finish_outbox(p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null) returns integer
-- Records what happened to rows this runner leased:
--   sent     handed over; recorded even if the row was cancelled while in flight, because it was sent;
--   retry    temporary failure: again after 30 s, doubling (at most 1 h; with 8 attempts the longest wait
--            is 32 min); failed at the outbox_max_attempts()th;
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
    v_now constant timestamptz := now();
    v_epoch constant double precision := extract(epoch from v_now);
    v_count integer;
    v_bounced bigint[];
begin
    if p_outcome is null or p_outcome not in ('sent', 'retry', 'failed', 'release') then
        raise exception 'unknown outcome: %', coalesce(quote_literal(p_outcome), 'NULL')
            using errcode = '22023', column = 'p_outcome', detail = 'field: p_outcome',
                  hint = 'Use sent, retry, failed or release.';
    end if;
    if p_outcome = 'sent' then
        update drip.outbox o
        set status = 'sent', sent_at = v_now, locked_by = null
        where o.id = any (p_ids) and o.locked_by = p_runner and o.status in ('sending', 'cancelled');
        get diagnostics v_count = row_count;
        return v_count;
    end if;

    -- Citus-friendly: no join with the id list (each row finds its error by its place in it),
    -- now() as a value (not allowed inside CASE there), the bounces in a second statement
    with done as (
        update drip.outbox o
        set status = case
                when p_outcome = 'failed' then 'failed'
                when p_outcome = 'retry' and o.attempts >= v_max then 'failed'
                else 'queued' end,
            last_error = case when p_outcome in ('retry', 'failed') then left(p_errors[array_position(p_ids, o.id)], 2000)
                              else o.last_error end,
            attempts = case when p_outcome = 'release' then greatest(o.attempts - 1, 0) else o.attempts end,
            next_attempt_at = case
                -- from the epoch: timestamptz + interval is STABLE, which Citus refuses here
                when p_outcome = 'retry'
                    then to_timestamp(v_epoch + least(30 * power(2, greatest(o.attempts - 1, 0)), 3600))
                when p_outcome = 'release' then v_now
                else o.next_attempt_at end,
            locked_by = null
        where o.id = any (p_ids) and o.status = 'sending' and o.locked_by = p_runner
        returning o.contact_id, o.status, p_errors[array_position(p_ids, o.id)] as error
    )
    select count(*), array_agg(d.contact_id) filter (where d.status = 'failed' and drip.is_mailbox_gone(d.error))
    into v_count, v_bounced
    from done d;
    if v_bounced is not null then
        update drip.contacts c set bounced_at = v_now where c.id = any (v_bounced) and c.bounced_at is null;
    end if;
    return v_count;
end
$$;
