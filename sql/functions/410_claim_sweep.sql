-- drip.claim_sweep(p_date date, p_runner text) returns boolean
-- True for exactly one caller per day: the runner that should sweep p_date.
create or replace function drip.claim_sweep(p_date date, p_runner text) returns boolean
language sql volatile
set search_path = ''
as $$
    insert into drip.sweeps (sweep_date, claimed_by) values (p_date, p_runner)
    on conflict (sweep_date) do nothing
    returning true
$$;
