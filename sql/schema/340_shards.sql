-- table drip.shard_map, table drip.shard_keys
-- Empty on plain PostgreSQL. On Citus (drip.distribute fills them; drip.refresh_shard_keys after
-- moving or splitting shards): shard_map names every shard of the contact-scoped tables with
-- its place in the co-location group (shard_index), so code running inside one shard finds the
-- co-located shards of the other tables (drip.local_table); shard_keys holds one contact id that
-- hashes into each shard, so the coordinator can run a function inside every shard at once
-- (`select f(k.tableoid) from drip.shard_keys k`) or inside one.
create table drip.shard_map (
    shard_id bigint primary key,
    table_name text not null,
    shard_index integer not null,
    unique (table_name, shard_index)
);

create table drip.shard_keys (
    key bigint primary key,
    shard_index integer not null
);
