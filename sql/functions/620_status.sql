-- view drip.status
-- One row of health figures for `pgdrip status`.
create or replace view drip.status as
select
    (select count(*) from drip.enrollments e
      where e.status = 'active' and e.next_step_due_at <= now())::bigint as due_now,
    (select count(*) from drip.outbox o where o.status in ('queued', 'sending'))::bigint as queued,
    (select count(*) from drip.outbox o where o.status = 'failed')::bigint as failed,
    (select now() - min(o.created_at) from drip.outbox o where o.status in ('queued', 'sending')) as oldest_queued_age,
    (select max(w.sweep_date) from drip.sweeps w) as last_sweep,
    (select count(*) from drip.runners r where r.seen_at > now() - interval '5 minutes')::bigint as runners_recent,
    (select count(*) from drip.contacts c where c.bounced_at is not null)::bigint as bounced;
