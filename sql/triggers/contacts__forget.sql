-- trigger drip.tg_contacts__forget() on drip.contacts, after delete, per statement
-- Deleting a contact deletes its tags, group memberships, enrollments, outbox rows, clicks,
-- unsubscribe records, events, segment memberships, topic unsubscribes, counted sends, and the
-- kept links of its pruned mail (none of which carry foreign keys; see their tables).
create or replace function drip.tg_contacts__forget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_ids bigint[];
    v_table text;
begin
    -- the transition table read on its own: on Citus, joining it with a Citus table fails
    select array_agg(d.id) into v_ids from old_rows d;
    foreach v_table in array array['contact_tags', 'group_members', 'outbox', 'enrollments', 'clicks', 'unsubscribes', 'events',
                                'segment_members', 'topic_unsubscribes', 'contact_sends', 'sent_links']
    loop
        execute format('delete from %s t where t.contact_id = any ($1)', drip.local_table(tg_relid, v_table))
        using v_ids;
    end loop;
    return null;
end
$$;
revoke all on function drip.tg_contacts__forget() from public;
create or replace trigger contacts__forget
    after delete on drip.contacts
    referencing old table as old_rows
    for each statement execute function drip.tg_contacts__forget();
