-- call drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
-- Enrolls contacts whose anniversary is p_date in their own calendar (behaviour 11) into the
-- active anniversary sequences: a birthday on that month and day, or a sign-up whose local date
-- (the contact's zone, else the sequence's) has them, from the year after sign-up. 29 February
-- is celebrated on 28 February in other years. Step 1 is due at local midnight of p_date plus
-- its delay, moved into the send window (drip.enroll_events). Safe to run twice: an anniversary
-- enrolls once per (sequence, contact, date). Also ends the enrollments whose goal is that
-- anniversary.
create or replace procedure drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
language plpgsql
set search_path = ''
set jit = off  -- index lookups of one day's contacts; JIT compilation would cost more than the sweep
as $$
declare
    v_days integer[];
    v_near integer[];
    v_sequence record;
    v_contacts bigint[];
    v_values text[];
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
    -- a local sign-up date is at most a day from its UTC date: the candidates the index gives
    v_near := v_days || array[drip.month_day(p_date - 1), drip.month_day(p_date + 1)];

    -- Goals first: an anniversary can be a sequence's goal.
    if exists (select 1 from drip.sequences s where s.exit_trigger_type = 'anniversary') then
        select array_agg(c.id), array_agg('birthday'::text) into v_contacts, v_values
        from drip.contacts c
        where drip.month_day(c.birthday) = any (v_days) and c.birthday is not null;
        perform drip.exit_events('anniversary', v_contacts, v_values);
        select array_agg(c.id), array_agg('created'::text) into v_contacts, v_values
        from drip.contacts c
        where drip.month_day(drip.utc_date(c.created_at)) = any (v_near) and c.unsubscribed_at is null
          and drip.month_day(timezone(coalesce(c.time_zone, 'UTC'), c.created_at)::date) = any (v_days);
        perform drip.exit_events('anniversary', v_contacts, v_values);
    end if;

    -- The day's contacts are locked FOR KEY SHARE, as a foreign key would: a concurrent delete
    -- waits for the sweep, then cascades to the enrollments made here.
    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'birthday') then
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('birthday'::text, array[count(*)::integer]),
                                   p_date)
        from (select c.id from drip.contacts c
              where drip.month_day(c.birthday) = any (v_days)
                and c.birthday is not null and c.unsubscribed_at is null and c.bounced_at is null
              for key share) c;
    end if;

    -- A sign-up date depends on the zone it is seen in: one pass per sequence (there are few).
    for v_sequence in
        select s.id, s.time_zone from drip.sequences s
        where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'created'
    loop
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('created'::text, array[count(*)::integer]),
                                   p_date, array[v_sequence.id])
        from (select c.id from drip.contacts c
              where drip.month_day(drip.utc_date(c.created_at)) = any (v_near)
                and c.unsubscribed_at is null and c.bounced_at is null
                and drip.month_day(timezone(coalesce(c.time_zone, v_sequence.time_zone), c.created_at)::date)
                    = any (v_days)
                -- created anniversaries start in the year after sign-up
                and extract(year from timezone(coalesce(c.time_zone, v_sequence.time_zone), c.created_at))
                    < extract(year from p_date)
              for key share) c;
    end loop;

    insert into drip.sweeps (sweep_date) values (p_date)
    on conflict (sweep_date) do update set swept_at = now();
end
$$;
comment on procedure drip.anniversary_sweep(date) is
    'Enrolls contacts whose birthday or sign-up anniversary is p_date in their own calendar; safe to run twice.';
