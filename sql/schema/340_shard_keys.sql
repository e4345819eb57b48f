-- table drip.shard_keys
-- Empty on plain PostgreSQL. On Citus (drip.distribute fills it; drip.refresh_shard_keys after
-- splitting shards): one contact id that hashes into each shard of the contacts' co-location
-- group, so the coordinator can run a function inside every shard at once
-- (`select f(k.tableoid) from drip.shard_keys k`, see drip.local_table) or inside one.
create table drip.shard_keys (
    key bigint primary key,
    shard_index integer not null
);
