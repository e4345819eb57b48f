-- table drip.sweeps
-- One row per swept day: the claim that lets only one runner sweep it.
create table drip.sweeps (
    sweep_date date primary key,
    claimed_by text,
    swept_at timestamptz not null default now()
);
