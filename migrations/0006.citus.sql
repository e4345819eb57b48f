-- Second release, scale-out (issue 14): the shard keys that code running on Citus uses; empty on
-- plain PostgreSQL. The same edits are in sql/schema; tests/migration proves the two agree.

-- table drip.shard_keys
create table drip.shard_keys (
    key bigint primary key,
    shard_index integer not null
);

-- index pruned_enrollments_key becomes unique (drip.prune inserts with ON CONFLICT DO NOTHING,
-- which Citus supports where a NOT EXISTS probe is refused); the same fact twice is kept once
delete from drip.pruned_enrollments a
using drip.pruned_enrollments b
where a.ctid > b.ctid and a.sequence_id = b.sequence_id and a.contact_id = b.contact_id
  and a.occurrence is not distinct from b.occurrence;
drop index drip.pruned_enrollments_key;
create unique index pruned_enrollments_key on drip.pruned_enrollments (sequence_id, contact_id, occurrence)
    nulls not distinct;
