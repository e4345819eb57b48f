-- call drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
-- Enrolls contacts whose anniversary is p_date in their own calendar (behaviour 11) into the
-- active anniversary sequences: a birthday on that month and day, or a sign-up whose local date
-- (the contact's zone, else the sequence's) has them, from the year after sign-up. 29 February
-- is celebrated on 28 February in other years. Step 1 is due at local midnight of p_date plus
-- its delay, moved into the send window (drip.enroll_events). Safe to run twice: an anniversary
-- enrolls once per (sequence, contact, date). Also ends the enrollments whose goal is that
-- anniversary.
-- drip.anniversary_events(p_date date, p_near regclass default null)
-- The work of drip.anniversary_sweep for one date: goals, then enrollments, over the contacts of
-- this database, or on Citus of the shard next to p_near (the sweep runs it in every shard).
create or replace function drip.anniversary_events(p_date date, p_near regclass default null) returns void
language plpgsql volatile
security definer
set search_path = ''
set jit = off  -- index lookups of one day's contacts; JIT compilation would cost more than the sweep
set citus.allow_nested_distributed_execution = on  -- reference tables read inside a shard (drip.route_events)
as $$
declare
    v_days integer[];
    v_near integer[];
    v_sequence record;
    v_contacts bigint[];
    v_values text[];
    v_contacts_table constant text := drip.local_table(p_near, 'contacts');
begin
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
        execute format($sql$
            select array_agg(c.id), array_agg('birthday'::text) from %s c
            where drip.month_day(c.birthday) = any ($1) and c.birthday is not null$sql$, v_contacts_table)
        into v_contacts, v_values using v_days;
        perform drip.exit_events('anniversary', v_contacts, v_values, p_near);
        execute format($sql$
            select array_agg(c.id), array_agg('created'::text) from %s c
            where drip.month_day(drip.utc_date(c.created_at)) = any ($1) and c.unsubscribed_at is null
              and drip.month_day(timezone(coalesce(c.time_zone, 'UTC'), c.created_at)::date) = any ($2)$sql$,
            v_contacts_table)
        into v_contacts, v_values using v_near, v_days;
        perform drip.exit_events('anniversary', v_contacts, v_values, p_near);
    end if;

    -- The day's contacts are locked FOR KEY SHARE, as a foreign key would: a concurrent delete
    -- waits for the sweep, then cascades to the enrollments made here.
    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'birthday') then
        execute format($sql$
            select drip.enroll_events('anniversary', array_agg(c.id),
                                      array_fill('birthday'::text, array[count(*)::integer]), $1, null, $3)
            from (select c.id from %s c
                  where drip.month_day(c.birthday) = any ($2)
                    and c.birthday is not null and c.unsubscribed_at is null and c.bounced_at is null
                  for key share) c$sql$, v_contacts_table)
        using p_date, v_days, p_near;
    end if;

    -- A sign-up date depends on the zone it is seen in: one pass per sequence (there are few).
    for v_sequence in
        select s.id, s.time_zone from drip.sequences s
        where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'created'
    loop
        execute format($sql$
            select drip.enroll_events('anniversary', array_agg(c.id),
                                      array_fill('created'::text, array[count(*)::integer]), $1, array[$4::bigint], $5)
            from (select c.id from %s c
                  where drip.month_day(drip.utc_date(c.created_at)) = any ($2)
                    and c.unsubscribed_at is null and c.bounced_at is null
                    and drip.month_day(timezone(coalesce(c.time_zone, $6), c.created_at)::date) = any ($3)
                    -- created anniversaries start in the year after sign-up
                    and extract(year from timezone(coalesce(c.time_zone, $6), c.created_at)) < extract(year from $1)
                  for key share) c$sql$, v_contacts_table)
        using p_date, v_near, v_days, v_sequence.id, p_near, v_sequence.time_zone;
    end loop;
end
$$;
revoke all on function drip.anniversary_events(date, regclass) from public;

create or replace procedure drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
language plpgsql
set search_path = ''
as $$
begin
    if p_date is null then
        raise exception 'p_date must not be NULL'
            using errcode = '22004', column = 'p_date', detail = 'field: p_date',
                  hint = 'Pass the date to sweep, or omit it for today (UTC).';
    end if;
    if drip.is_distributed() then
        -- inside every shard at once (see drip.route_events)
        perform drip.anniversary_events(p_date, k.tableoid) from drip.shard_keys k;
    else
        perform drip.anniversary_events(p_date);
    end if;
    insert into drip.sweeps (sweep_date, swept_at) values (p_date, now())
    on conflict (sweep_date) do update set swept_at = excluded.swept_at;  -- Citus: no now() in DO UPDATE
end
$$;
comment on procedure drip.anniversary_sweep(date) is
    'Enrolls contacts whose birthday or sign-up anniversary is p_date in their own calendar; safe to run twice.';
