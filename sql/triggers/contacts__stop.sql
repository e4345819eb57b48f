-- trigger drip.tg_contacts__stop() on drip.contacts, after update, per statement
-- Unsubscribing (unsubscribed_at set) or bouncing (bounced_at set) cancels the contact's active
-- enrollments and its unsent mail in the same transaction: queued rows, and rows in flight (a
-- runner checks before it hands a message over; one it had already handed over is recorded as
-- sent, see drip.finish_outbox). Enrollments first: that waits for a dispatcher holding them.
create or replace function drip.tg_contacts__stop() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select 1 from new_rows n join old_rows o on o.id = n.id
                   where (n.unsubscribed_at is not null and o.unsubscribed_at is null)
                      or (n.bounced_at is not null and o.bounced_at is null)) then
        return null;
    end if;

    update drip.enrollments e
    set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
    from new_rows n join old_rows o on o.id = n.id
    where ((n.unsubscribed_at is not null and o.unsubscribed_at is null)
           or (n.bounced_at is not null and o.bounced_at is null))
      and e.contact_id = n.id and e.status = 'active';

    update drip.outbox ob
    set status = 'cancelled',
        last_error = case when n.bounced_at is not null and o.bounced_at is null then 'contact bounced'
                          else 'contact unsubscribed' end
    from new_rows n join old_rows o on o.id = n.id
    where ((n.unsubscribed_at is not null and o.unsubscribed_at is null)
           or (n.bounced_at is not null and o.bounced_at is null))
      and ob.contact_id = n.id and ob.status in ('queued', 'sending');
    return null;
end
$$;
revoke all on function drip.tg_contacts__stop() from public;
create or replace trigger contacts__stop
    after update on drip.contacts
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_contacts__stop();
