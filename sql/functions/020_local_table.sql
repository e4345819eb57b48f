-- drip.local_table(p_near regclass, p_table text) returns text
-- The name to use for table p_table in code that runs next to p_near. On plain PostgreSQL, or
-- when p_near is a whole table (or NULL), that is drip.<p_table>. On Citus, when p_near is a
-- shard (a trigger's TG_RELID, a shard's tableoid), it is the shard of p_table that holds the
-- same hash range: inside a shard, co-located rows must be read and written through their
-- shards, as a query on the distributed table would be a nested distributed query. For a
-- reference table it is the placement on this node: a statement that joins shards with a Citus
-- table is refused ("relation ... is not distributed"). Citus's
-- catalog is read by EXECUTE (it does not exist on plain PostgreSQL), never a Citus table.
create or replace function drip.local_table(p_near regclass, p_table text) returns text
language plpgsql stable
set search_path = ''
as $$
declare
    v_shard constant bigint := pg_catalog.substring(p_near::text, '_([0-9]+)$')::bigint;
    v_name text;
begin
    perform 'PRAGMA:DISABLE:CHECK';  -- Citus's catalog: absent where plpgsql_check runs
    if v_shard is not null then
        execute $sql$
            select pg_catalog.format('drip.%I', $2 || '_' || t.shardid)
            from pg_catalog.pg_dist_shard t
            where t.logicalrelid = pg_catalog.format('drip.%I', $2)::regclass
              and (t.shardminvalue is null  -- a reference table: its one shard
                   or t.shardminvalue = (select n.shardminvalue from pg_catalog.pg_dist_shard n where n.shardid = $1))$sql$
        into v_name using v_shard, p_table;
    end if;
    return coalesce(v_name, pg_catalog.format('drip.%I', p_table));
end
$$;

-- drip.is_distributed() returns boolean
-- Whether drip.distribute has laid this database out on Citus.
create or replace function drip.is_distributed() returns boolean
language sql stable
set search_path = ''
as $$
    select drip.citus_table('contacts')
$$;
