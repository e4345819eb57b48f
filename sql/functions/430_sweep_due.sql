-- call drip.sweep_due(p_catchup_days integer default 7, p_runner text default 'sweep_due', inout swept date[] default null)
-- Sweeps every date drip.sweep_dates owes, each claimed (as p_runner) and swept in its own
-- committed transaction, so that only one caller sweeps a date and a failed date stays open;
-- answers the dates this call swept (`swept`). What the pg_cron job and the runner both call. It
-- commits: no SET clause, every name qualified; CALL it outside an explicit transaction block.
-- The first signature took the catch-up days alone: replaced, not overloaded (CALL
-- drip.sweep_due() would be ambiguous between the two).
drop procedure if exists drip.sweep_due(integer);
create or replace procedure drip.sweep_due(p_catchup_days integer default 7, p_runner text default 'sweep_due',
                                           inout swept date[] default null)
language plpgsql
as $$
declare
    v_date date;
begin
    swept := '{}';
    for v_date in select d from drip.sweep_dates(p_catchup_days) d loop
        if coalesce(drip.claim_sweep(v_date, coalesce(p_runner, 'sweep_due')), false) then
            call drip.anniversary_sweep(v_date);
            swept := swept || v_date;
        end if;
        commit;
    end loop;
end
$$;
comment on procedure drip.sweep_due(integer, text, date[]) is
    'Sweeps every anniversary date still owed (catching up missed days), one committed date at a time; '
    'returns the dates swept.';
