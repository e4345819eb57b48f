-- drip.local_table(p_near regclass, p_table text) returns text
-- The name to use for table p_table in code that runs next to p_near. On plain PostgreSQL, or
-- when p_near is a whole table (or NULL), that is drip.<p_table>. On Citus, when p_near is a
-- shard (a trigger's TG_RELID, a shard's tableoid), it is the shard of p_table in the same
-- place of the co-location group: inside a shard, the co-located rows must be read and written
-- through their shards, as a query on the distributed table would be a nested distributed query.
create or replace function drip.local_table(p_near regclass, p_table text) returns text
language sql stable
set search_path = ''
as $$
    select coalesce(
        (select pg_catalog.format('drip.%I', p_table || '_' || t.shard_id)
         from drip.shard_map n
         join drip.shard_map t on t.shard_index = n.shard_index and t.table_name = p_table
         where n.shard_id = pg_catalog.substring(p_near::text, '_([0-9]+)$')::bigint),
        pg_catalog.format('drip.%I', p_table))
$$;

-- drip.is_distributed() returns boolean
-- Whether drip.distribute has laid this database out on Citus.
create or replace function drip.is_distributed() returns boolean
language sql stable
set search_path = ''
as $$
    select exists (select from drip.shard_map)
$$;
