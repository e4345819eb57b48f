-- drip.month_day(p_date date) returns integer; drip.utc_date(p_at timestamptz) returns date
-- month * 100 + day, and the UTC calendar date: the immutable keys of the anniversary indexes.
-- Pure SQL expressions without a SET clause so that the planner inlines them (a SET clause
-- forbids inlining); every name, operators included, is schema-qualified instead.
create function drip.month_day(p_date date) returns integer
language sql immutable parallel safe
return (pg_catalog.date_part('month', p_date)::integer OPERATOR(pg_catalog.*) 100)
       OPERATOR(pg_catalog.+) pg_catalog.date_part('day', p_date)::integer;

create function drip.utc_date(p_at timestamptz) returns date
language sql immutable parallel safe
return pg_catalog.timezone('UTC', p_at)::date;
