-- table drip.time_zones
-- The zone names this server knows (pg_timezone_names), copied by every `pgdrip migrate`: that
-- view reads the zone files on each query (about 50 ms), too slow to check every contact row.
create table drip.time_zones (
    name text primary key
);
create unique index time_zones_lower on drip.time_zones (lower(name));
