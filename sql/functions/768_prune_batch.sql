-- drip.prune_outbox_batch(p_cutoff timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_id bigint, out done boolean)
-- drip.prune_enrollments_batch(p_cutoff timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_id bigint, out done boolean)
-- One batch of drip.prune: the next p_limit rows by id after p_after_id, of which those in a
-- final state and older than p_cutoff are deleted. The outbox walk is done at the first batch
-- made entirely of younger rows (ids grow with created_at); the enrollments walk at the end.
-- An enrollment of a reentry = 'never' sequence, or an anniversary one, leaves in
-- drip.pruned_enrollments what those rules need. SECURITY DEFINER: the runner prunes, and may
-- delete nothing else.
create or replace function drip.prune_outbox_batch(
    p_cutoff timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_oldest timestamptz;
begin
    select array_agg(o.id order by o.id), min(o.created_at) into v_ids, v_oldest
    from (select o.id, o.created_at from drip.outbox o where o.id > p_after_id order by o.id limit p_limit) o;
    deleted := 0;
    last_id := v_ids[cardinality(v_ids)];
    done := v_ids is null or v_oldest >= p_cutoff;
    if not done then
        -- where the links of sent mail lead outlives the mail (drip.sent_links)
        perform drip.keep_sent_links(v_ids, p_cutoff);
        delete from drip.outbox o
        where o.id = any (v_ids) and o.status in ('sent', 'failed', 'cancelled') and o.created_at < p_cutoff;
        get diagnostics deleted = row_count;
    end if;
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
revoke all on function drip.prune_outbox_batch(timestamptz, bigint, integer) from public;
revoke all on function drip.prune_enrollments_batch(timestamptz, bigint, integer) from public;

-- drip.prune_clicks_batch(p_cutoff timestamptz, p_after_id bigint, p_limit integer, out deleted integer, out last_id bigint, out done boolean)
-- The same for recorded clicks (they hold IP addresses and user agents); the step report keeps
-- their counts.
create or replace function drip.prune_clicks_batch(
    p_cutoff timestamptz, p_after_id bigint, p_limit integer,
    out deleted integer, out last_id bigint, out done boolean
)
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_oldest timestamptz;
begin
    select array_agg(k.id order by k.id), min(k.clicked_at) into v_ids, v_oldest
    from (select k.id, k.clicked_at from drip.clicks k where k.id > p_after_id order by k.id limit p_limit) k;
    deleted := 0;
    last_id := v_ids[cardinality(v_ids)];
    done := v_ids is null or v_oldest >= p_cutoff;
    if not done then
        delete from drip.clicks k where k.id = any (v_ids) and k.clicked_at < p_cutoff;
        get diagnostics deleted = row_count;
    end if;
end
$$;
revoke all on function drip.prune_clicks_batch(timestamptz, bigint, integer) from public;
