-- drip.retry_outbox(p_ids bigint[]) returns integer
-- Queues failed rows again (all failed rows when p_ids is NULL), with fresh attempts.
-- Rows of unsubscribed contacts stay as they are. Returns how many were queued.
create or replace function drip.retry_outbox(p_ids bigint[] default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_count integer;
begin
    update drip.outbox o
    set status = 'queued', attempts = 0, next_attempt_at = now(), locked_by = null
    from drip.contacts c
    where o.status = 'failed' and (p_ids is null or o.id = any (p_ids))
      and c.id = o.contact_id and c.unsubscribed_at is null;
    get diagnostics v_count = row_count;
    if v_count > 0 then
        perform pg_notify('drip_outbox', '');
    end if;
    return v_count;
end
$$;
