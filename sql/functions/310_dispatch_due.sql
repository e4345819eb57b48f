-- call drip.dispatch_due(p_now timestamptz default now())
-- Queues the next step of every due enrollment, committing after each batch of 1000.
-- Safe to run concurrently (SKIP LOCKED). It commits, so it carries no SET clause and every
-- name is qualified; CALL it outside an explicit transaction block. On Citus each batch runs
-- inside every shard at once (drip.dispatch_batch), until no shard fills its batch.
create or replace procedure drip.dispatch_due(p_now timestamptz default now())
language plpgsql
as $$
declare
    v_batch constant integer := 1000;
    v_claimed integer;
    -- where the last batch stopped in the due index (see dispatch_batch)
    v_after_due timestamptz;
    v_after_id bigint;
begin
    loop
        select b.claimed, b.last_due, b.last_id into v_claimed, v_after_due, v_after_id
        from drip.dispatch_batch(p_now, v_batch, v_after_due, v_after_id) b;
        commit;
        exit when v_claimed < v_batch;
    end loop;
end
$$;
comment on procedure drip.dispatch_due(timestamptz) is
    'Queues the next step of every due enrollment in committed batches; safe to run concurrently.';
