-- drip.unsubscribe_by_token(p_token text, p_via text default 'one-click') returns bigint
-- drip.unsubscribe_target(p_token text) returns table (contact_id bigint, email_hint text, unsubscribed boolean)
-- The one-click unsubscribe link (`pgdrip serve`, /u/TOKEN). unsubscribe_by_token sets the
-- contact's unsubscribed_at (which cancels its enrollments and mail, see contacts__stop), records
-- which message's link it was (drip.unsubscribes, the step report's unsubscribes), and returns
-- the contact's id; again later, it changes nothing and returns the id (RFC 8058 asks for
-- repeatable POSTs). unsubscribe_target is what the confirmation page shows, and writes
-- nothing. Both return nothing for a token this database did not make or a contact that is
-- gone. SECURITY DEFINER: the web process needs no rights on these tables.
create or replace function drip.unsubscribe_by_token(p_token text, p_via text default 'one-click') returns bigint
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_token record;
begin
    select t.* into v_token
    from drip.mail_settings m cross join lateral drip.read_token(m.link_key, p_token) t;
    if v_token.kind is distinct from 'u' then
        return null;
    end if;
    update drip.contacts c set unsubscribed_at = now()
    where c.id = v_token.contact_id and c.unsubscribed_at is null;
    if found then
        insert into drip.unsubscribes (contact_id, enrollment_id, step_id, via)
        values (v_token.contact_id, nullif(v_token.enrollment_id, 0), v_token.step_id, left(p_via, 40));
        insert into drip.step_stats (step_id, day, contact_id, unsubscribes)
        values (v_token.step_id, (now() at time zone 'UTC')::date, v_token.contact_id, 1);
        return v_token.contact_id;
    end if;
    return (select c.id from drip.contacts c where c.id = v_token.contact_id);
end
$$;
revoke all on function drip.unsubscribe_by_token(text, text) from public;

create or replace function drip.unsubscribe_target(p_token text)
returns table (contact_id bigint, email_hint text, unsubscribed boolean)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_token record;
begin
    -- the token first, then the contact by its id (on Citus, a query on the contact's shard)
    select t.* into v_token
    from drip.mail_settings m cross join lateral drip.read_token(m.link_key, p_token) t;
    if v_token.kind is distinct from 'u' then
        return;
    end if;
    return query
    select c.id,
           -- enough for the reader to recognise the address, not enough to learn it from the link
           left(split_part(c.email, '@', 1), 1) || '•••@' || split_part(c.email, '@', 2),
           c.unsubscribed_at is not null
    from drip.contacts c
    where c.id = v_token.contact_id;
end
$$;
revoke all on function drip.unsubscribe_target(text) from public;
