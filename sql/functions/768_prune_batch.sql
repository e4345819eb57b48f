-- drip.prune_outbox_batch(p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean)
-- drip.prune_enrollments_batch(p_cutoff timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_id bigint, out done boolean)
-- One batch of drip.prune. Outbox: the next p_limit rows in a final state created before
-- p_cutoff, in (created_at, id) order after (p_after_at, p_after_id), are deleted; the walk is
-- done at the first short batch. It goes by time, never by id order, which is not the order rows
-- were made in on Citus (each node has its own range of ids). Enrollments: the next p_limit rows
-- by id, of which the finished ones that ended before p_cutoff are deleted; the walk goes to the
-- end. An enrollment of a reentry = 'never' sequence, or an anniversary one, leaves in
-- drip.pruned_enrollments what those rules need. SECURITY DEFINER: the runner prunes, and may
-- delete nothing else.
drop function if exists drip.prune_outbox_batch(timestamptz, bigint, integer);
drop function if exists drip.prune_clicks_batch(timestamptz, bigint, integer);
create or replace function drip.prune_outbox_batch(
    p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_picked integer;
begin
    -- outbox_finished: final rows by (created_at, id)
    select array_agg(o.id order by o.created_at, o.id), count(*), max(o.created_at)
    into v_ids, v_picked, last_at
    from (select o.id, o.created_at from drip.outbox o
          where o.status in ('sent', 'failed', 'cancelled') and o.created_at < p_cutoff
            and (o.created_at, o.id) > (p_after_at, p_after_id)
          order by o.created_at, o.id
          limit p_limit) o;
    last_id := v_ids[cardinality(v_ids)];
    done := v_picked < p_limit;
    -- where the links of sent mail lead outlives the mail (drip.sent_links)
    perform drip.keep_sent_links(v_ids, p_cutoff);
    -- a row queued again since it was picked (drip.retry_outbox) stays
    delete from drip.outbox o
    where o.id = any (v_ids) and o.status in ('sent', 'failed', 'cancelled') and o.created_at < p_cutoff;
    get diagnostics deleted = row_count;
end
$$;

create or replace function drip.prune_enrollments_batch(
    p_cutoff timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_sequences bigint[];
    v_contacts bigint[];
    v_occurrences date[];
begin
    select array_agg(e.id order by e.id) into v_ids
    from (select e.id from drip.enrollments e where e.id > p_after_id order by e.id limit p_limit) e;
    last_id := v_ids[cardinality(v_ids)];
    done := v_ids is null;
    with gone as (
        delete from drip.enrollments e
        where e.id = any (v_ids) and e.status in ('completed', 'cancelled', 'exited')
          and coalesce(e.completed_at, e.cancelled_at, e.exited_at, e.enrolled_at) < p_cutoff
        returning e.sequence_id, e.contact_id, e.occurrence
    )
    select array_agg(g.sequence_id), array_agg(g.contact_id), array_agg(g.occurrence)
    into v_sequences, v_contacts, v_occurrences
    from gone g;
    deleted := coalesce(cardinality(v_contacts), 0);
    -- what must be remembered: once in a 'never' sequence, and each anniversary date (a second
    -- statement, not a CTE on the deleted rows: Citus plans neither that nor a NOT EXISTS probe)
    insert into drip.pruned_enrollments (sequence_id, contact_id, occurrence)
    select distinct g.sequence_id, g.contact_id, case when s.reentry = 'never' then null else g.occurrence end
    from unnest(v_sequences, v_contacts, v_occurrences) as g (sequence_id, contact_id, occurrence)
    join drip.sequences s on s.id = g.sequence_id
    where s.reentry = 'never' or g.occurrence is not null
    on conflict do nothing;
end
$$;
revoke all on function drip.prune_outbox_batch(timestamptz, timestamptz, bigint, integer) from public;
revoke all on function drip.prune_enrollments_batch(timestamptz, bigint, integer) from public;

-- drip.prune_clicks_batch(p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean)
-- The same for recorded clicks (they hold IP addresses and user agents), by (clicked_at, id);
-- the step report keeps their counts.
create or replace function drip.prune_clicks_batch(
    p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_picked integer;
begin
    -- clicks_time: clicks by (clicked_at, id)
    select array_agg(k.id order by k.clicked_at, k.id), count(*), max(k.clicked_at)
    into v_ids, v_picked, last_at
    from (select k.id, k.clicked_at from drip.clicks k
          where k.clicked_at < p_cutoff and (k.clicked_at, k.id) > (p_after_at, p_after_id)
          order by k.clicked_at, k.id
          limit p_limit) k;
    last_id := v_ids[cardinality(v_ids)];
    done := v_picked < p_limit;
    delete from drip.clicks k where k.id = any (v_ids) and k.clicked_at < p_cutoff;
    get diagnostics deleted = row_count;
end
$$;
revoke all on function drip.prune_clicks_batch(timestamptz, timestamptz, bigint, integer) from public;

-- drip.prune_events_batch(p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean)
-- The same for the application's events, by (occurred_at, id), except the event that enrolled
-- an active enrollment (its payload fills {{event.X}} tags).
create or replace function drip.prune_events_batch(
    p_cutoff timestamptz, p_after_at timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_at timestamptz, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_contacts bigint[];
    v_keep bigint[];
    v_picked integer;
begin
    -- events_time: events by (occurred_at, id)
    select array_agg(v.id order by v.occurred_at, v.id), array_agg(v.contact_id order by v.occurred_at, v.id),
           count(*), max(v.occurred_at)
    into v_ids, v_contacts, v_picked, last_at
    from (select v.id, v.contact_id, v.occurred_at from drip.events v
          where v.occurred_at < p_cutoff and (v.occurred_at, v.id) > (p_after_at, p_after_id)
          order by v.occurred_at, v.id
          limit p_limit) v;
    last_id := v_ids[cardinality(v_ids)];
    done := v_picked < p_limit;
    -- the ones an active enrollment reads, found first (Citus plans no anti-join of an array with
    -- two distributed tables)
    select array_agg(e.event_id) into v_keep
    from drip.enrollments e
    where e.contact_id = any (v_contacts) and e.event_id = any (v_ids) and e.status = 'active';
    delete from drip.events v where v.id = any (v_ids) and v.id <> all (coalesce(v_keep, '{}'));
    get diagnostics deleted = row_count;
end
$$;
revoke all on function drip.prune_events_batch(timestamptz, timestamptz, bigint, integer) from public;

-- drip.prune_contact_sends() returns integer
-- The caps' memory (drip.contact_sends) no cap can still count: older than the longest cap's
-- period, or all of it when there is no cap.
create or replace function drip.prune_contact_sends() returns integer
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_per interval := (select max(c.per) from drip.frequency_caps c);
    v_before timestamptz := now() - v_per;
    v_deleted integer;
begin
    if v_per is null then
        delete from drip.contact_sends;
    else
        -- a constant: Citus refuses now() in a distributed DELETE
        delete from drip.contact_sends cs where cs.queued_at < v_before;
    end if;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;
revoke all on function drip.prune_contact_sends() from public;
