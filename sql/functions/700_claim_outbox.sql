-- drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer) returns setof drip.outbox
-- Leases up to p_limit sendable rows (queued and due, or sending with an expired lease) to one
-- runner with SKIP LOCKED. Among the rows it picks, it never hands out:
--   - a row of an unsubscribed or bounced contact: cancelled (the last line of behaviour 6);
--   - a row whose lease ran out drip.outbox_max_attempts() times: failed, since each expiry
--     means a runner died or hung while sending it (a message that kills its runner is not
--     tried forever).
-- Only the picked rows are judged, so a claim costs the same whatever the backlog. The work is
-- drip.claim_shard's; on Citus it runs in every shard at once, in rounds (below).
create or replace function drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer)
returns setof drip.outbox
language plpgsql volatile
set search_path = ''
as $$
declare
    v_shards integer;
    v_wanted integer;
    v_candidates integer;
    v_exhausted boolean[];
    v_shares integer[];
    v_rank integer;
    v_offset integer := 0;
    v_shard record;
    v_ids bigint[] := '{}'::bigint[];
begin
    if p_runner is null or p_limit is null or p_limit < 1 or p_lease_seconds is null or p_lease_seconds < 1 then
        raise exception 'claim_outbox needs a runner name, a limit of 1 or more and a lease of 1 second or more'
            using errcode = '22023', column = 'p_limit', detail = 'field: p_runner, p_limit, p_lease_seconds';
    end if;
    if not drip.is_distributed() then
        v_ids := drip.claim_shard(null, p_runner, p_limit, p_lease_seconds);
    else
        select count(*)::integer into v_shards from drip.shard_keys;
        v_exhausted := array_fill(false, array[v_shards]);
        -- Rounds: what is still wanted is shared out over the shards not yet found empty (equal
        -- parts, the remainder from a rotating offset), so the shares add up to it and nothing
        -- is leased, nor locked, beyond p_limit. A shard that gives less than its share is empty
        -- for this claim. Each round fills a share or empties a shard: the loop ends.
        loop
            v_wanted := p_limit - cardinality(v_ids);
            select count(*)::integer into v_candidates from unnest(v_exhausted) as e (empty) where not e.empty;
            exit when v_wanted <= 0 or v_candidates = 0;
            -- the offset was counted over the last round's candidates, which may have been more
            v_offset := v_offset % v_candidates;
            v_shares := array_fill(0, array[v_shards]);
            v_rank := 0;
            for s in 1 .. v_shards loop
                continue when v_exhausted[s];
                v_shares[s] := v_wanted / v_candidates
                               + ((v_rank - v_offset + v_candidates) % v_candidates < v_wanted % v_candidates)::integer;
                v_rank := v_rank + 1;
            end loop;
            v_offset := (v_offset + v_wanted % v_candidates) % v_candidates;
            for v_shard in
                select k.shard_index,
                       drip.claim_shard(k.tableoid, p_runner, v_shares[k.shard_index + 1], p_lease_seconds) as ids
                from drip.shard_keys k
                where v_shares[k.shard_index + 1] > 0
            loop
                v_ids := v_ids || coalesce(v_shard.ids, '{}'::bigint[]);
                if coalesce(cardinality(v_shard.ids), 0) < v_shares[v_shard.shard_index + 1] then
                    v_exhausted[v_shard.shard_index + 1] := true;
                end if;
            end loop;
        end loop;
    end if;
    return query select o.* from drip.outbox o where o.id = any (v_ids) order by o.next_attempt_at, o.id;
end
$$;
