-- drip.keep_sent_links(p_ids bigint[], p_cutoff timestamptz) returns integer
-- Before drip.prune deletes outbox rows (those of p_ids that are final and created before
-- p_cutoff), keeps where the tracked links of the sent ones lead (drip.sent_links), so that a
-- link in old mail still redirects, and its click is still recorded, after its message is gone.
-- Returns how many messages' links it kept. Called by drip.prune_outbox_batch (SECURITY
-- DEFINER), so it runs as the schema's owner; no role is granted it.
create or replace function drip.keep_sent_links(p_ids bigint[], p_cutoff timestamptz) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_kept integer;
begin
    -- co-located by contact on Citus: the insert runs on each shard
    insert into drip.sent_links (contact_id, enrollment_id, step_id, links, sent_at, variant_id)
    select o.contact_id, o.enrollment_id, o.step_id, o.links, coalesce(o.sent_at, o.created_at), o.variant_id
    from drip.outbox o
    where o.id = any (p_ids) and o.status = 'sent' and o.created_at < p_cutoff and cardinality(o.links) > 0
    on conflict do nothing;
    get diagnostics v_kept = row_count;
    return v_kept;
end
$$;
revoke all on function drip.keep_sent_links(bigint[], timestamptz) from public;
