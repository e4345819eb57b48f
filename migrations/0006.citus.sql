-- Second release, scale-out (issue 14): the shard maps that code running on Citus uses; empty on
-- plain PostgreSQL. The same edits are in sql/schema; tests/migration proves the two agree.

-- table drip.shard_map, table drip.shard_keys
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
