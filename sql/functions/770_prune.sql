-- call drip.prune(p_older_than interval default interval '180 days')
-- Retention: deletes outbox rows in a final state (sent, failed, cancelled) created longer ago
-- than p_older_than, finished enrollments (completed, cancelled, exited) that ended longer ago,
-- and recorded clicks older than that, in batches of 5,000 (drip.prune_outbox_batch, drip.prune_enrollments_batch,
-- drip.prune_clicks_batch) with a
-- commit after each, so it never holds a lock a dispatch waits on for more than one batch.
-- Reports progress as NOTICEs. Changes no behaviour: drip.step_report keeps its counts, and
-- drip.pruned_enrollments remembers what re-entry and once-per-date need, and drip.sent_links
-- where the tracked links of the mail deleted lead (they keep working). One prune at a time:
-- a second one returns at once. It commits: no SET clause, every name qualified; CALL it
-- outside an explicit transaction block.
create or replace procedure drip.prune(p_older_than interval default interval '180 days')
language plpgsql
as $$
declare
    v_batch constant integer := 5000;
    v_cutoff timestamptz;
    v_after bigint := 0;
    v_after_at timestamptz := '-infinity'::timestamptz;
    v_total bigint := 0;
    v_deleted integer;
    v_done boolean;
begin
    if p_older_than is null or p_older_than < interval '1 day' then
        raise exception 'prune keeps at least a day: older_than must be 1 day or more, not %',
                coalesce(p_older_than::text, 'NULL')
            using errcode = '22023', column = 'p_older_than', detail = 'field: older_than',
                  hint = 'For example interval ''180 days''; PGDRIP_RETENTION_DAYS=0 keeps everything.';
    end if;
    if not pg_catalog.pg_try_advisory_lock(7142009002) then
        raise notice 'prune: another prune is running; nothing done';
        return;
    end if;
    v_cutoff := pg_catalog.now() - p_older_than;
    loop
        select b.deleted, b.last_at, b.last_id, b.done into v_deleted, v_after_at, v_after, v_done
        from drip.prune_outbox_batch(v_cutoff, v_after_at, v_after, v_batch) b;
        commit;
        v_total := v_total + v_deleted;
        if v_deleted > 0 then
            raise notice 'prune: % outbox rows deleted', v_total;
        end if;
        exit when v_done;
    end loop;
    v_after := 0;
    v_total := 0;
    loop
        select b.deleted, b.last_id, b.done into v_deleted, v_after, v_done
        from drip.prune_enrollments_batch(v_cutoff, v_after, v_batch) b;
        commit;
        exit when v_done;
        v_total := v_total + v_deleted;
        if v_deleted > 0 then
            raise notice 'prune: % finished enrollments deleted', v_total;
        end if;
    end loop;
    v_after := 0;
    v_after_at := '-infinity'::timestamptz;
    v_total := 0;
    loop
        select b.deleted, b.last_at, b.last_id, b.done into v_deleted, v_after_at, v_after, v_done
        from drip.prune_clicks_batch(v_cutoff, v_after_at, v_after, v_batch) b;
        commit;
        v_total := v_total + v_deleted;
        if v_deleted > 0 then
            raise notice 'prune: % clicks deleted', v_total;
        end if;
        exit when v_done;
    end loop;
    v_after := 0;
    v_after_at := '-infinity'::timestamptz;
    v_total := 0;
    loop
        select b.deleted, b.last_at, b.last_id, b.done into v_deleted, v_after_at, v_after, v_done
        from drip.prune_events_batch(v_cutoff, v_after_at, v_after, v_batch) b;
        commit;
        v_total := v_total + v_deleted;
        if v_deleted > 0 then
            raise notice 'prune: % events deleted', v_total;
        end if;
        exit when v_done;
    end loop;
    v_deleted := drip.prune_contact_sends();
    commit;
    perform pg_catalog.pg_advisory_unlock(7142009002);
end
$$;
comment on procedure drip.prune(interval) is
    'Deletes finished mail and enrollments older than p_older_than in committed batches; reports keep their counts.';
