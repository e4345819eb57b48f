-- trigger drip.tg_contacts__unsubscribe() on drip.contacts, after update, per statement
-- Unsubscribing cancels the contact's active enrollments and unsent mail in the same
-- transaction (enrollments first: that waits for a dispatcher holding them).
create or replace function drip.tg_contacts__unsubscribe() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update drip.enrollments e
    set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
    from new_rows n join old_rows o on o.id = n.id
    where n.unsubscribed_at is not null and o.unsubscribed_at is null
      and e.contact_id = n.id and e.status = 'active';

    update drip.outbox ob
    set status = 'cancelled', last_error = 'contact unsubscribed'
    from new_rows n join old_rows o on o.id = n.id
    where n.unsubscribed_at is not null and o.unsubscribed_at is null
      and ob.contact_id = n.id and ob.status in ('queued', 'sending');
    return null;
end
$$;
revoke all on function drip.tg_contacts__unsubscribe() from public;
create or replace trigger contacts__unsubscribe
    after update on drip.contacts
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_contacts__unsubscribe();
