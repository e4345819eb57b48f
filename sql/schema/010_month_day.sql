-- drip.month_day(p_date date) returns integer
-- month * 100 + day: the immutable key the anniversary indexes are built on.
create function drip.month_day(p_date date) returns integer
language sql immutable parallel safe
set search_path = ''
return extract(month from p_date)::integer * 100 + extract(day from p_date)::integer;

-- drip.utc_date(p_at timestamptz) returns date
-- The UTC calendar date of a timestamp; immutable, so usable in an index.
create function drip.utc_date(p_at timestamptz) returns date
language sql immutable parallel safe
set search_path = ''
return (p_at at time zone 'UTC')::date;
