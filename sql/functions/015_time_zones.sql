-- drip.refresh_time_zones() returns void, then called
-- Copies this server's zone names (pg_timezone_names) into drip.time_zones, where contacts and
-- sequences check theirs. Every `pgdrip migrate` runs it, so a server upgrade's new zones appear.
create or replace function drip.refresh_time_zones() returns void
language sql volatile
set search_path = ''
as $$
    insert into drip.time_zones (name)
    select z.name from pg_catalog.pg_timezone_names z
    on conflict do nothing
$$;
select drip.refresh_time_zones();
