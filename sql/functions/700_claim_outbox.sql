-- drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer) returns setof drip.outbox
-- Leases up to p_limit sendable rows (queued and due, or sending with an expired lease) to one
-- runner with SKIP LOCKED. Among the rows it picks, it never hands out:
--   - a row of an unsubscribed or bounced contact: cancelled (the last line of behaviour 6);
--   - a row whose lease ran out drip.outbox_max_attempts() times: failed, since each expiry
--     means a runner died or hung while sending it (a message that kills its runner is not
--     tried forever).
-- Only the picked rows are judged, so a claim costs the same whatever the backlog. The work is
-- drip.claim_shard's; on Citus it runs in every shard at once, in rounds that ask each shard for
-- its share of what is still wanted, while some shard fills its share.
create or replace function drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer)
returns setof drip.outbox
language plpgsql volatile
set search_path = ''
as $$
declare
    v_shards integer;
    v_wanted integer;
    v_offset integer := 0;
    v_ids bigint[] := '{}'::bigint[];
    v_round bigint[];
    v_full boolean;
begin
    if p_runner is null or p_limit is null or p_limit < 1 or p_lease_seconds is null or p_lease_seconds < 1 then
        raise exception 'claim_outbox needs a runner name, a limit of 1 or more and a lease of 1 second or more'
            using errcode = '22023', column = 'p_limit', detail = 'field: p_runner, p_limit, p_lease_seconds';
    end if;
    if not drip.is_distributed() then
        v_ids := drip.claim_shard(null, p_runner, p_limit, p_lease_seconds);
    else
        select count(*)::integer into v_shards from drip.shard_keys;
        -- Each round asks every shard for its share of what is still wanted, the remainder spread
        -- from a rotating offset: the shares add up to exactly that, so nothing is leased (or
        -- locked) beyond p_limit. Rounds go on while some shard filled its share, or while not
        -- every shard was asked; never more than one per shard.
        for i in 1 .. v_shards + 1 loop
            v_wanted := p_limit - cardinality(v_ids);
            exit when v_wanted <= 0;
            select array_agg(i.id), bool_or(i.full) into v_round, v_full
            from (select unnest(r.ids) as id, coalesce(cardinality(r.ids), 0) >= r.share as full
                  from (select drip.claim_shard(x.tableoid, p_runner, x.share, p_lease_seconds) as ids, x.share
                        from (select k.tableoid,
                                     v_wanted / v_shards
                                     + ((k.shard_index - v_offset + v_shards) % v_shards < v_wanted % v_shards)::integer
                                     as share
                              from drip.shard_keys k) x
                        where x.share > 0) r) i;
            v_ids := v_ids || coalesce((select array_agg(x order by x) from unnest(v_round) x), '{}'::bigint[]);
            exit when v_wanted >= v_shards and not coalesce(v_full, false);
            v_offset := (v_offset + v_wanted % v_shards) % v_shards;
        end loop;
    end if;
    return query select o.* from drip.outbox o where o.id = any (v_ids) order by o.next_attempt_at, o.id;
end
$$;
