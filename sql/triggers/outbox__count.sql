-- trigger drip.tg_outbox__count_insert() / _update() / _delete() on drip.outbox, per statement
-- Keep drip.step_report's counters (drip.step_stats): one row per statement, step and arm
-- (variant_id, behaviour 25) with the change in each state's count ('sending' counts as queued). Deleting mail in a final state
-- (prune, a deleted contact) changes nothing: the report keeps history the outbox lets go.
create or replace function drip.tg_outbox__count_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- on Citus, the counters go to this outbox shard's co-located step_stats shard
    execute format($sql$
        insert into %s (step_id, variant_id, day, contact_id, queued, sent, failed, cancelled)
        select n.step_id, n.variant_id, (now() at time zone 'UTC')::date, min(n.contact_id),
               count(*) filter (where n.status in ('queued', 'sending')), count(*) filter (where n.status = 'sent'),
               count(*) filter (where n.status = 'failed'), count(*) filter (where n.status = 'cancelled')
        from new_rows n
        group by n.step_id, n.variant_id$sql$,
        drip.local_table(tg_relid, 'step_stats'));
    return null;
end
$$;

create or replace function drip.tg_outbox__count_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- on Citus, the counters go to this outbox shard's co-located step_stats shard
    execute format($sql$
        insert into %s (step_id, variant_id, day, contact_id, queued, sent, failed, cancelled)
        select n.step_id, n.variant_id, (now() at time zone 'UTC')::date, min(n.contact_id),
               sum((n.status in ('queued', 'sending'))::integer - (o.status in ('queued', 'sending'))::integer),
               sum((n.status = 'sent')::integer - (o.status = 'sent')::integer),
               sum((n.status = 'failed')::integer - (o.status = 'failed')::integer),
               sum((n.status = 'cancelled')::integer - (o.status = 'cancelled')::integer)
        from new_rows n
        join old_rows o on o.id = n.id
        where replace(n.status, 'sending', 'queued') <> replace(o.status, 'sending', 'queued')
        group by n.step_id, n.variant_id$sql$,
        drip.local_table(tg_relid, 'step_stats'));
    return null;
end
$$;

create or replace function drip.tg_outbox__count_delete() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    -- on Citus, the counters go to this outbox shard's co-located step_stats shard
    execute format($sql$
        insert into %s (step_id, variant_id, day, contact_id, queued)
        select o.step_id, o.variant_id, (now() at time zone 'UTC')::date, min(o.contact_id), -count(*)
        from old_rows o
        where o.status in ('queued', 'sending')
        group by o.step_id, o.variant_id$sql$,
        drip.local_table(tg_relid, 'step_stats'));
    return null;
end
$$;

create or replace trigger outbox__count_insert
    after insert on drip.outbox
    referencing new table as new_rows
    for each statement execute function drip.tg_outbox__count_insert();
create or replace trigger outbox__count_update
    after update on drip.outbox
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_outbox__count_update();
create or replace trigger outbox__count_delete
    after delete on drip.outbox
    referencing old table as old_rows
    for each statement execute function drip.tg_outbox__count_delete();
