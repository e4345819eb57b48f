-- drip.forecast_summary(p_from timestamptz default now()) returns table (sequence_id bigint, sequence text, step_id bigint, step_order integer, subject text, next_24h bigint, next_7d bigint)
-- The admin pages' forecast: per sequence and step, how many messages drip.forecast expects in
-- the 24 hours and the 7 days after p_from (windows, zones, inactive steps applied).
create or replace function drip.forecast_summary(p_from timestamptz default now())
returns table (sequence_id bigint, sequence text, step_id bigint, step_order integer, subject text,
               next_24h bigint, next_7d bigint)
language sql stable
set search_path = ''
as $$
    select f.sequence_id, s.name, f.step_id, f.step_order, st.subject,
           count(*) filter (where f.due_at < p_from + interval '24 hours'), count(*)
    from drip.forecast(p_from + interval '7 days') f
    join drip.sequences s on s.id = f.sequence_id
    join drip.sequence_steps st on st.id = f.step_id
    group by f.sequence_id, s.name, f.step_id, f.step_order, st.subject
    order by s.name, f.sequence_id, f.step_order
$$;

-- view drip.sequence_report
-- Per sequence: the step report's counters added up over its steps (queued, sent, failed,
-- cancelled, clicks, bot clicks, unsubscribes, skipped, held back by a cap, topic unsubscribes,
-- held out), for the admin pages' list and /metrics.
create or replace view drip.sequence_report as
select s.id as sequence_id, s.name,
       coalesce(sum(x.queued), 0)::bigint as queued,
       coalesce(sum(x.sent), 0)::bigint as sent,
       coalesce(sum(x.failed), 0)::bigint as failed,
       coalesce(sum(x.cancelled), 0)::bigint as cancelled,
       coalesce(sum(x.clicks), 0)::bigint as clicks,
       coalesce(sum(x.bot_clicks), 0)::bigint as bot_clicks,
       coalesce(sum(x.unsubscribes), 0)::bigint as unsubscribes,
       coalesce(sum(x.skipped), 0)::bigint as skipped,
       coalesce(sum(x.cap_deferred), 0)::bigint as cap_deferred,
       coalesce(sum(x.topic_unsubscribes), 0)::bigint as topic_unsubscribes,
       coalesce(sum(x.held_out), 0)::bigint as held_out
from drip.sequences s
left join drip.sequence_steps st on st.sequence_id = s.id
left join drip.step_stats x on x.step_id = st.id
group by s.id, s.name;

-- drip.failed_messages(p_after_id bigint default null, p_limit integer default 50) returns table (id bigint, contact_id bigint, to_address text, sequence_id bigint, sequence text, step_order integer, subject text, attempts integer, created_at timestamptz, last_error text)
-- The admin pages' failed outbox rows, oldest first, a page after a keyset.
create or replace function drip.failed_messages(p_after_id bigint default null, p_limit integer default 50)
returns table (id bigint, contact_id bigint, to_address text, sequence_id bigint, sequence text, step_order integer,
               subject text, attempts integer, created_at timestamptz, last_error text)
language sql stable
set search_path = ''
as $$
    select o.id, o.contact_id, o.to_address, st.sequence_id, s.name, st.step_order, o.subject, o.attempts,
           o.created_at, o.last_error
    from drip.outbox o
    left join drip.sequence_steps st on st.id = o.step_id
    left join drip.sequences s on s.id = st.sequence_id
    where o.status = 'failed' and o.id > coalesce(p_after_id, 0)
    order by o.id
    limit least(greatest(coalesce(p_limit, 50), 1), 1000)
$$;
