-- drip.refresh_shard_keys() returns integer
-- On Citus, rewrites drip.shard_keys: the smallest positive contact id that hashes into each
-- shard of drip.contacts. drip.distribute calls it; call it again after splitting shards or
-- changing their number (moving shards keeps their ranges). Returns the number of shards.
create or replace function drip.refresh_shard_keys() returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_shards integer;
begin
    perform 'PRAGMA:DISABLE:CHECK';  -- Citus's catalog and functions: absent where plpgsql_check runs
    delete from drip.shard_keys;
    -- a few hundred candidates per shard find every one of them
    execute $sql$
        with shards as (
            select s.shardid,
                   (pg_catalog.row_number() over (order by s.shardminvalue::bigint) - 1)::integer as shard_index
            from pg_catalog.pg_dist_shard s where s.logicalrelid = 'drip.contacts'::regclass
        )
        insert into drip.shard_keys (key, shard_index)
        select min(k.key), s.shard_index
        from pg_catalog.generate_series(1, (select count(*) from shards) * 1000) as k (key)
        join shards s on s.shardid = pg_catalog.get_shard_id_for_distribution_column('drip.contacts', k.key)
        group by s.shard_index$sql$;
    execute $sql$select count(*) from pg_catalog.pg_dist_shard where logicalrelid = 'drip.contacts'::regclass$sql$
    into v_shards;
    if (select count(*) from drip.shard_keys) <> v_shards then
        raise exception 'could not find a key for every shard of drip.contacts' using errcode = 'XX000';
    end if;
    return v_shards;
end
$$;
