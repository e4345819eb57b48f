-- drip.finish_outbox(p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null) returns integer
-- Records what happened to rows this runner leased: sent, retry (backoff 30 s doubling to
-- 1 h; failed after 8 attempts), failed (permanent), or release (handed back untried).
create or replace function drip.finish_outbox(
    p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null
) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_max_attempts constant integer := 8;
    v_count integer;
begin
    if p_outcome is null or p_outcome not in ('sent', 'retry', 'failed', 'release') then
        raise exception 'unknown outcome: %', coalesce(quote_literal(p_outcome), 'NULL')
            using errcode = '22023', column = 'p_outcome', detail = 'field: p_outcome',
                  hint = 'Use sent, retry, failed or release.';
    end if;
    update drip.outbox o
    set status = case
            when p_outcome = 'sent' then 'sent'
            when p_outcome = 'failed' then 'failed'
            when p_outcome = 'retry' and o.attempts >= v_max_attempts then 'failed'
            else 'queued' end,
        sent_at = case when p_outcome = 'sent' then now() end,
        last_error = case when p_outcome in ('retry', 'failed') then left(r.error, 2000) else o.last_error end,
        attempts = case when p_outcome = 'release' then greatest(o.attempts - 1, 0) else o.attempts end,
        next_attempt_at = case
            when p_outcome = 'retry' then now() + least(30 * power(2, greatest(o.attempts - 1, 0)), 3600) * interval '1 second'
            when p_outcome = 'release' then now()
            else o.next_attempt_at end,
        locked_by = null
    from unnest(p_ids, coalesce(p_errors, array[]::text[])) as r (id, error)
    where o.id = r.id and o.status = 'sending' and o.locked_by = p_runner;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;
