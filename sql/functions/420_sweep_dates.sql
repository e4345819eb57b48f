-- drip.sweep_dates(p_catchup_days integer default 7) returns setof date
-- The dates the anniversary sweep still owes, oldest first. A date is owed from the moment it
-- begins in the zone that starts first (UTC+14, at 10:00 UTC the day before), so that every
-- contact is enrolled before its own local midnight. Owed: every date after the last one swept
-- up to that one, reaching back at most p_catchup_days (PGDRIP_SWEEP_CATCHUP_DAYS) before today
-- (UTC). A database never swept owes today (UTC) and, from 10:00 UTC, tomorrow. Dates swept by
-- hand further ahead are skipped, never counted as the last one.
create or replace function drip.sweep_dates(p_catchup_days integer default 7) returns setof date
language plpgsql stable
set search_path = ''
as $$
declare
    v_today constant date := (now() at time zone 'UTC')::date;
    v_horizon constant date := (now() at time zone 'UTC' + interval '14 hours')::date;
    v_last date;
begin
    if p_catchup_days is null or p_catchup_days < 0 or p_catchup_days > 366 then
        raise exception 'catch-up days must be between 0 and 366, not %', coalesce(p_catchup_days::text, 'NULL')
            using errcode = '22023', column = 'p_catchup_days', detail = 'field: sweep_catchup_days',
                  hint = 'Set PGDRIP_SWEEP_CATCHUP_DAYS to a number of days (default 7).';
    end if;
    select max(w.sweep_date) into v_last from drip.sweeps w where w.sweep_date <= v_horizon;
    return query
        select d::date
        from generate_series(case when v_last is null then v_today
                                  else greatest(v_last + 1, v_today - p_catchup_days) end,
                             v_horizon, interval '1 day') d
        where not exists (select 1 from drip.sweeps w where w.sweep_date = d::date)
        order by 1;
end
$$;
