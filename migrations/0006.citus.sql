-- Second release, scale-out (issue 14): the shard keys that code running on Citus uses; empty on
-- plain PostgreSQL. The same edits are in sql/schema; tests/migration proves the two agree.

-- table drip.shard_keys
create table drip.shard_keys (
    key bigint primary key,
    shard_index integer not null
);
