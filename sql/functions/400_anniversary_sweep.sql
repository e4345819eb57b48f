-- call drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
-- Enrolls contacts whose birthday or sign-up anniversary falls on p_date into the active
-- anniversary sequences; 29 February is celebrated on 28 February in other years.
-- Safe to run twice: an anniversary enrolls once per (sequence, contact, date).
create or replace procedure drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
language plpgsql
set search_path = ''
set jit = off  -- index lookups of one day's contacts; JIT compilation would cost more than the sweep
as $$
declare
    v_days integer[];
begin
    if p_date is null then
        raise exception 'p_date must not be NULL'
            using errcode = '22004', column = 'p_date', detail = 'field: p_date',
                  hint = 'Pass the date to sweep, or omit it for today (UTC).';
    end if;
    v_days := array[drip.month_day(p_date)];
    -- In a year without 29 February, those contacts celebrate on 28 February.
    if drip.month_day(p_date) = 228
       and extract(day from (date_trunc('year', p_date) + interval '1 month 28 days')) <> 29 then
        v_days := v_days || 229;
    end if;

    -- The day's contacts are locked FOR KEY SHARE, as a foreign key would: a concurrent delete
    -- waits for the sweep, then cascades to the enrollments made here.
    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'birthday') then
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('birthday'::text, array[count(*)::integer]), p_date)
        from (select c.id from drip.contacts c
              where drip.month_day(c.birthday) = any (v_days)
                and c.birthday is not null and c.unsubscribed_at is null and c.bounced_at is null
              for key share) c;
    end if;

    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'created') then
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('created'::text, array[count(*)::integer]), p_date)
        from (select c.id from drip.contacts c
              where drip.month_day(drip.utc_date(c.created_at)) = any (v_days)
                and c.unsubscribed_at is null and c.bounced_at is null
                -- created anniversaries start in the year after sign-up
                and extract(year from drip.utc_date(c.created_at)) < extract(year from p_date)
              for key share) c;
    end if;

    insert into drip.sweeps (sweep_date) values (p_date)
    on conflict (sweep_date) do update set swept_at = now();
end
$$;
comment on procedure drip.anniversary_sweep(date) is
    'Enrolls contacts whose birthday or sign-up anniversary is p_date; safe to run twice.';
