-- trigger drip.tg_contacts__forget() on drip.contacts, after delete, per statement
-- Deleting a contact deletes its tags, group memberships, enrollments, outbox rows, clicks and
-- unsubscribe records (none of which carry foreign keys; see their tables).
create or replace function drip.tg_contacts__forget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from drip.contact_tags t using old_rows d where t.contact_id = d.id;
    delete from drip.group_members g using old_rows d where g.contact_id = d.id;
    delete from drip.outbox o using old_rows d where o.contact_id = d.id;
    delete from drip.enrollments e using old_rows d where e.contact_id = d.id;
    delete from drip.clicks k using old_rows d where k.contact_id = d.id;
    delete from drip.unsubscribes u using old_rows d where u.contact_id = d.id;
    return null;
end
$$;
revoke all on function drip.tg_contacts__forget() from public;
create or replace trigger contacts__forget
    after delete on drip.contacts
    referencing old table as old_rows
    for each statement execute function drip.tg_contacts__forget();
