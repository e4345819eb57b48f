-- drip.check_time_zone(p_zone text, p_field text default 'time_zone') returns text
-- The zone's name as this server writes it ('america/los_angeles' → 'America/Los_Angeles'), or
-- an error naming the field (22023) for a name the server does not know. NULL stays NULL.
create or replace function drip.check_time_zone(p_zone text, p_field text default 'time_zone') returns text
language plpgsql stable
set search_path = ''
as $$
declare
    v_name text;
begin
    if p_zone is null then
        return null;
    end if;
    select z.name into v_name from drip.time_zones z where lower(z.name) = lower(btrim(p_zone));
    if v_name is null then
        raise exception 'unknown time zone: %', quote_literal(left(p_zone, 60))
            using errcode = '22023', column = p_field, detail = format('field: %s', p_field),
                  hint = 'Use an IANA name such as America/Los_Angeles, Europe/Berlin or UTC (see pg_timezone_names).';
    end if;
    return v_name;
end
$$;
