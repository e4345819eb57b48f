-- drip.local_instant(p_local timestamp, p_zone text) returns timestamptz
-- The moment a local wall-clock time happens in a zone. A time that does not exist (the hour
-- skipped when clocks go forward) is the first valid moment after it, the instant of the jump;
-- a time that happens twice (the hour repeated when clocks go back) is its first occurrence.
create or replace function drip.local_instant(p_local timestamp, p_zone text) returns timestamptz
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_at timestamptz := timezone(p_zone, p_local);
    v_lo timestamptz;
    v_hi timestamptz;
    v_mid timestamptz;
begin
    if timezone(p_zone, v_at) = p_local then
        -- the same local time half an hour or an hour earlier too: take the first occurrence
        if timezone(p_zone, v_at - interval '1 hour') = p_local then
            return v_at - interval '1 hour';
        elsif timezone(p_zone, v_at - interval '30 minutes') = p_local then
            return v_at - interval '30 minutes';
        end if;
        return v_at;
    end if;
    -- a gap: PostgreSQL read p_local with the offset before the jump, which lands after it; the
    -- jump is the first instant whose local time is at or after p_local (found to the second)
    v_lo := v_at - interval '3 hours';
    v_hi := v_at;
    while v_hi - v_lo > interval '1 second' loop
        v_mid := v_lo + (v_hi - v_lo) / 2;
        if timezone(p_zone, v_mid) >= p_local then
            v_hi := v_mid;
        else
            v_lo := v_mid;
        end if;
    end loop;
    return date_trunc('second', v_hi);
end
$$;
