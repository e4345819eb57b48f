-- drip.retry_outbox(p_ids bigint[] default null) returns integer
-- Queues failed rows again with fresh attempts: the given ones, or every failed row when p_ids
-- is NULL. A given id that is not a failed row is refused (nothing is queued). Rows of
-- unsubscribed or bounced contacts stay failed. Returns how many were queued.
create or replace function drip.retry_outbox(p_ids bigint[] default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_not_failed text;
    v_failed bigint[];
    v_count integer;
begin
    if p_ids is not null then
        -- two statements: Citus plans no correlated subquery over an id list
        select array_agg(o.id) into v_failed from drip.outbox o where o.id = any (p_ids) and o.status = 'failed';
        select string_agg(i.id::text, ', ' order by i.id) into v_not_failed
        from (select distinct u.id from unnest(p_ids) as u (id)) i
        where i.id <> all (coalesce(v_failed, '{}'::bigint[]));
        if v_not_failed is not null then
            raise exception 'not failed outbox rows: %', v_not_failed
                using errcode = '22023', column = 'p_ids', detail = 'field: p_ids',
                      hint = 'Only failed rows can be retried; list them with: pgdrip outbox list --status failed';
        end if;
    end if;
    update drip.outbox o
    set status = 'queued', attempts = 0, next_attempt_at = now(), locked_by = null
    from drip.contacts c
    where o.status = 'failed' and (p_ids is null or o.id = any (p_ids))
      and c.id = o.contact_id and c.unsubscribed_at is null and c.bounced_at is null;
    get diagnostics v_count = row_count;
    if v_count > 0 then
        perform pg_notify('drip_outbox', '');
    end if;
    return v_count;
end
$$;
