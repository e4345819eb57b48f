-- table drip.runners
-- Heartbeats of running runners, for `pgdrip status`.
create table drip.runners (
    name text primary key,
    host text,
    pid int,
    started_at timestamptz not null default now(),
    seen_at timestamptz not null default now()
);
