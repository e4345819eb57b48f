-- call drip.sweep_due(p_catchup_days integer default 7)
-- Sweeps every date drip.sweep_dates owes, each claimed and swept in its own committed
-- transaction, so that only one caller sweeps a date and a failed date stays open. What the
-- pg_cron job calls; the runner does the same from Python. It commits: no SET clause, every name
-- qualified; CALL it outside an explicit transaction block.
create or replace procedure drip.sweep_due(p_catchup_days integer default 7)
language plpgsql
as $$
declare
    v_date date;
begin
    for v_date in select d from drip.sweep_dates(p_catchup_days) d loop
        if coalesce(drip.claim_sweep(v_date, 'sweep_due'), false) then
            call drip.anniversary_sweep(v_date);
        end if;
        commit;
    end loop;
end
$$;
comment on procedure drip.sweep_due(integer) is
    'Sweeps every anniversary date still owed (catching up missed days), one committed date at a time.';
