-- drip.local_shards(p_table text) returns setof regclass
-- Where code that must touch every row of a contact-scoped table runs from a trigger on a
-- configuration table: on plain PostgreSQL, drip.<p_table>; on Citus, where such a trigger fires
-- on every node's placement of the reference table, the shards of drip.<p_table> placed on this
-- node (none on a coordinator without shards), so that the nodes together cover each shard once.
create or replace function drip.local_shards(p_table text) returns setof regclass
language plpgsql stable
set search_path = ''
as $$
begin
    perform 'PRAGMA:DISABLE:CHECK';  -- Citus's catalog: absent where plpgsql_check runs
    if not drip.citus_table(p_table) then
        return next pg_catalog.format('drip.%I', p_table)::regclass;
        return;
    end if;
    return query execute $sql$
        select pg_catalog.format('drip.%I', $1 || '_' || s.shardid)::regclass
        from pg_catalog.pg_dist_shard s
        join pg_catalog.pg_dist_placement p on p.shardid = s.shardid
        where s.logicalrelid = pg_catalog.format('drip.%I', $1)::regclass
          and p.groupid = (select g.groupid from pg_catalog.pg_dist_local_group g)
        order by s.shardid$sql$
    using p_table;
end
$$;
