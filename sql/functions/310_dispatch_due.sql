-- call drip.dispatch_due(p_now timestamptz default now(), inout queued bigint default null)
-- Queues the next step of every due enrollment, committing after each batch of 1000, and
-- answers how many messages it queued (`queued`; CALL drip.dispatch_due() shows it as a row).
-- Safe to run concurrently (SKIP LOCKED). It commits, so it carries no SET clause and every
-- name is qualified; CALL it outside an explicit transaction block. On Citus each batch runs
-- inside every shard at once (drip.dispatch_batch), until no shard fills its batch.
-- The first signature answered nothing: replaced, not overloaded (CALL drip.dispatch_due() would
-- be ambiguous between the two).
drop procedure if exists drip.dispatch_due(timestamptz);
create or replace procedure drip.dispatch_due(p_now timestamptz default now(), inout queued bigint default null)
language plpgsql
as $$
declare
    v_batch constant integer := 1000;
    v_claimed integer;
    v_queued integer;
    -- where the last batch stopped in the due index (see dispatch_batch)
    v_after_due timestamptz;
    v_after_id bigint;
begin
    queued := 0;
    loop
        select b.claimed, b.last_due, b.last_id, b.queued into v_claimed, v_after_due, v_after_id, v_queued
        from drip.dispatch_batch(p_now, v_batch, v_after_due, v_after_id) b;
        commit;
        queued := queued + v_queued;
        exit when v_claimed < v_batch;
    end loop;
end
$$;
comment on procedure drip.dispatch_due(timestamptz, bigint) is
    'Queues the next step of every due enrollment in committed batches; safe to run concurrently; '
    'returns how many messages it queued.';
