-- drip.next_send_time(p_at timestamptz, p_zone text, p_start time, p_end time, p_days integer) returns timestamptz
-- drip.window_opening(p_at timestamptz, p_zone text, p_start time, p_end time, p_days integer) returns timestamptz
-- The first moment at or after p_at that is inside the send window [p_start, p_end) on an
-- allowed weekday (p_days: drip.days_mask), in local time of p_zone (behaviour 10). NULL window
-- and days: p_at itself. next_send_time is the inlinable fast path (no window, or already inside
-- it: one zone conversion); window_opening finds the next opening otherwise.
create or replace function drip.window_opening(p_at timestamptz, p_zone text, p_start time, p_end time, p_days integer)
returns timestamptz
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_local timestamp := timezone(p_zone, p_at);
    v_day date;
    v_opens timestamp;
begin
    for i in 0 .. 7 loop
        v_day := v_local::date + i;
        if p_days is null or p_days & (1 << (extract(isodow from v_day)::integer - 1)) <> 0 then
            if i = 0 and (p_start is null or (v_local::time >= p_start and v_local::time < p_end)) then
                return p_at;
            end if;
            if i > 0 or v_local::time < p_start then
                v_opens := v_day + coalesce(p_start, time '00:00');
                return greatest(p_at, drip.local_instant(v_opens, p_zone));
            end if;
        end if;
    end loop;
    return p_at;  -- no allowed day at all (refused when a sequence is saved)
end
$$;

create or replace function drip.next_send_time(p_at timestamptz, p_zone text, p_start time, p_end time, p_days integer)
returns timestamptz
language sql immutable parallel safe
return case
    when p_start is null and p_days is null then p_at
    when (p_days is null
          or p_days OPERATOR(pg_catalog.&) (1 OPERATOR(pg_catalog.<<) (pg_catalog.date_part('isodow',
                 pg_catalog.timezone(p_zone, p_at))::integer OPERATOR(pg_catalog.-) 1)) OPERATOR(pg_catalog.<>) 0)
         and (p_start is null
              or (pg_catalog.timezone(p_zone, p_at)::time OPERATOR(pg_catalog.>=) p_start
                  and pg_catalog.timezone(p_zone, p_at)::time OPERATOR(pg_catalog.<) p_end))
        then p_at
    else drip.window_opening(p_at, p_zone, p_start, p_end, p_days) end;
