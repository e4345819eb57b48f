-- table drip.send_rate
-- The token bucket behind PGDRIP_MAX_RATE, shared by every runner of the database: it holds at
-- most one second's worth of tokens and refills at the rate the takers give (see drip.take_send_tokens).
create table drip.send_rate (
    singleton boolean primary key default true constraint send_rate_singleton check (singleton),
    tokens double precision not null default 0,
    refilled_at timestamptz not null default now()
);
insert into drip.send_rate default values;
