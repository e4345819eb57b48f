-- drip.citus_table(p_table text) returns boolean; drip.drop_triggers(p_table text, p_trigger text) returns void;
-- drip.add_foreign_key(p_table text, p_column text, p_target text, p_action text) returns void
-- Small steps of drip.distribute: whether drip.<p_table> is already distributed or a reference
-- table (not a Citus local table: one that references a reference table becomes one); drop our
-- triggers on a table (or one trigger by name, wherever it is); add a foreign key unless there.
-- Citus catalogs are read by EXECUTE: on plain PostgreSQL they do not exist.
create or replace function drip.citus_table(p_table text) returns boolean
language plpgsql stable
set search_path = ''
as $$
declare
    v_found boolean := false;
begin
    perform 'PRAGMA:DISABLE:CHECK';  -- Citus's catalog: absent where plpgsql_check runs
    if pg_catalog.to_regclass('pg_catalog.pg_dist_partition') is not null then
        execute $sql$select exists (select from pg_catalog.pg_dist_partition
                                    where logicalrelid = $1::regclass and not (partmethod = 'n' and repmodel = 's'))$sql$
        into v_found using 'drip.' || p_table;
    end if;
    return v_found;
end
$$;

create or replace function drip.drop_triggers(p_table text, p_trigger text) returns void
language plpgsql volatile
set search_path = ''
as $$
declare
    v_trigger record;
begin
    for v_trigger in
        select t.tgname, c.relname from pg_catalog.pg_trigger t
        join pg_catalog.pg_class c on c.oid = t.tgrelid
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'drip' and not t.tgisinternal
          and (p_table is null or c.relname = p_table) and (p_trigger is null or t.tgname = p_trigger)
    loop
        execute format('drop trigger %I on drip.%I', v_trigger.tgname, v_trigger.relname);
    end loop;
end
$$;

create or replace function drip.add_foreign_key(p_table text, p_column text, p_target text, p_action text)
returns void
language plpgsql volatile
set search_path = ''
as $$
begin
    if not exists (select from pg_catalog.pg_constraint
                   where conname = p_table || '_' || p_column || '_fkey'
                     and conrelid = format('drip.%I', p_table)::regclass) then
        execute format('alter table drip.%I add constraint %I foreign key (%I) references drip.%I (id) %s',
                       p_table, p_table || '_' || p_column || '_fkey', p_column, p_target, p_action);
    end if;
end
$$;
