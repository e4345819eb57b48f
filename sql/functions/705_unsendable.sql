-- drip.unsendable(p_runner text, p_ids bigint[]) returns setof bigint
-- Of the rows a runner has leased and not yet handed over, those it must not send any more: its
-- lease was lost, or the row was cancelled (its contact unsubscribed or bounced, its enrollment
-- was cancelled or reached its goal) while it was in flight. The runner asks while it sends a
-- batch; a row it did hand over is recorded as sent whatever happened meanwhile.
-- PL/pgSQL so that its plan is made once per session: the runner asks many times a second.
create or replace function drip.unsendable(p_runner text, p_ids bigint[]) returns setof bigint
language plpgsql stable
set search_path = ''
as $$
declare
    v_sendable bigint[];
begin
    -- two statements: Citus plans no correlated subquery over an id list
    select array_agg(o.id) into v_sendable
    from drip.outbox o join drip.contacts c on c.id = o.contact_id
    where o.id = any (p_ids) and o.status = 'sending' and o.locked_by = p_runner
      and c.unsubscribed_at is null and c.bounced_at is null;
    return query
    select i.id from unnest(p_ids) as i (id) where i.id <> all (coalesce(v_sendable, '{}'::bigint[]));
end
$$;
