-- Runs plpgsql_check over every PL/pgSQL function and trigger function in drip.
-- Prints one row per finding; CI fails when any row comes back.
create extension if not exists plpgsql_check;
select p.oid::regprocedure as function, t.tgrelid::regclass as on_table, c.level, c.message, c.lineno
from pg_proc p
join pg_language l on l.oid = p.prolang and l.lanname = 'plpgsql'
left join lateral (
    select tg.tgrelid from pg_trigger tg where tg.tgfoid = p.oid and not tg.tgisinternal limit 1
) t on true
cross join lateral plpgsql_check_function_tb(
    p.oid, coalesce(t.tgrelid, 0),
    newtable => case when exists (select 1 from pg_trigger tg where tg.tgfoid = p.oid and tg.tgnewtable is not null)
                     then 'new_rows' end,
    oldtable => case when exists (select 1 from pg_trigger tg where tg.tgfoid = p.oid and tg.tgoldtable is not null)
                     then 'old_rows' end,
    extra_warnings => true, performance_warnings => false
) c
where p.pronamespace = 'drip'::regnamespace;
