-- drip.unsubscribe_by_token(p_token text, p_via text default 'one-click', p_scope text default null) returns bigint
-- drip.unsubscribe_target(p_token text) returns table (contact_id bigint, email_hint text, unsubscribed boolean, topic_id bigint, topic_name text, topic_unsubscribed boolean)
-- drip.unsubscribe_topics(p_token text) returns table (topic_id bigint, name text, description text, unsubscribed boolean)
-- The one-click unsubscribe link (`pgdrip serve`, /u/TOKEN). unsubscribe_by_token leaves, for the
-- contact the token names: the topic of the message's sequence (behaviour 23), when it is a
-- marketing sequence with a topic and p_scope is NULL (the RFC 8058 POST) or 'topic'; all mail
-- (contacts.unsubscribed_at, which cancels enrollments and mail, see contacts__stop) when the
-- message has no topic or p_scope is 'all'; topic N when p_scope is 'topic:N' (the preference
-- page). It records which message's link it was (drip.unsubscribes, the step report's counts)
-- and returns the contact's id; again later, it changes nothing and returns the id (RFC 8058 asks
-- for repeatable POSTs). unsubscribe_target and unsubscribe_topics are what the preference page
-- shows, and write nothing. All return nothing for a token this database did not make or a
-- contact that is gone. SECURITY DEFINER: the web process needs no rights on these tables.

-- Replaced by the signatures below (topics); dropped when upgrading.
drop function if exists drip.unsubscribe_by_token(text, text);
drop function if exists drip.unsubscribe_target(text);

-- drip.unsubscribe_token_topic(p_token text, out contact_id bigint, out enrollment_id bigint, out step_id bigint, out topic_id bigint)
-- What an unsubscribe token names: the contact, the message's enrollment and step, and the topic
-- of its sequence when that is a marketing sequence with one (else NULL). NULLs for a bad token.
create or replace function drip.unsubscribe_token_topic(
    p_token text, out contact_id bigint, out enrollment_id bigint, out step_id bigint, out topic_id bigint
)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_token record;
begin
    select t.* into v_token
    from drip.mail_settings m cross join lateral drip.read_token(m.link_key, p_token) t;
    if v_token.kind is distinct from 'u' then
        return;
    end if;
    contact_id := v_token.contact_id;
    enrollment_id := nullif(v_token.enrollment_id, 0);
    step_id := v_token.step_id;
    select s.topic_id into topic_id
    from drip.sequence_steps st join drip.sequences s on s.id = st.sequence_id
    where st.id = v_token.step_id and s.message_class = 'marketing';
end
$$;
revoke all on function drip.unsubscribe_token_topic(text) from public;

create or replace function drip.unsubscribe_by_token(p_token text, p_via text default 'one-click',
                                                     p_scope text default null)
returns bigint
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_token record;
    v_topic bigint;
    v_done integer;
    v_variant bigint;
begin
    if p_scope is not null and p_scope !~ '^(all|topic|topic:[0-9]{1,18})$' then
        raise exception 'unknown unsubscribe scope %', quote_literal(left(p_scope, 40))
            using errcode = '22023', column = 'p_scope', detail = 'field: p_scope',
                  hint = 'NULL or ''topic'' (the message''s topic), ''all'', or ''topic:ID''.';
    end if;
    select t.* into v_token from drip.unsubscribe_token_topic(p_token) t;
    if v_token.contact_id is null or not exists (select from drip.contacts c where c.id = v_token.contact_id) then
        return null;
    end if;
    -- the arm the message was (behaviour 25): its unsubscribes count for it
    select coalesce((select o.variant_id from drip.outbox o
                     where o.contact_id = v_token.contact_id and o.enrollment_id = v_token.enrollment_id
                       and o.step_id = v_token.step_id),
                    (select k.variant_id from drip.sent_links k
                     where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                       and k.step_id = v_token.step_id))
    into v_variant;
    v_topic := case when p_scope like 'topic:%' then substr(p_scope, 7)::bigint
                    when p_scope = 'all' then null
                    else v_token.topic_id end;
    if v_topic is not null then
        if not exists (select from drip.topics t where t.id = v_topic) then
            return null;
        end if;
        insert into drip.topic_unsubscribes (contact_id, topic_id, via)
        values (v_token.contact_id, v_topic, left(p_via, 40))
        on conflict do nothing;
        get diagnostics v_done = row_count;
        if v_done > 0 then
            insert into drip.unsubscribes (contact_id, enrollment_id, step_id, via, topic_id)
            values (v_token.contact_id, v_token.enrollment_id, v_token.step_id, left(p_via, 40), v_topic);
            insert into drip.step_stats (step_id, variant_id, day, contact_id, topic_unsubscribes)
            values (v_token.step_id, v_variant, (now() at time zone 'UTC')::date, v_token.contact_id, 1);
        end if;
        return v_token.contact_id;
    end if;
    update drip.contacts c set unsubscribed_at = now()
    where c.id = v_token.contact_id and c.unsubscribed_at is null;
    if found then
        insert into drip.unsubscribes (contact_id, enrollment_id, step_id, via)
        values (v_token.contact_id, v_token.enrollment_id, v_token.step_id, left(p_via, 40));
        insert into drip.step_stats (step_id, variant_id, day, contact_id, unsubscribes)
        values (v_token.step_id, v_variant, (now() at time zone 'UTC')::date, v_token.contact_id, 1);
    end if;
    return v_token.contact_id;
end
$$;
revoke all on function drip.unsubscribe_by_token(text, text, text) from public;

create or replace function drip.unsubscribe_target(p_token text)
returns table (contact_id bigint, email_hint text, unsubscribed boolean, topic_id bigint, topic_name text,
               topic_unsubscribed boolean)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_token record;
begin
    -- the token first, then the contact by its id (on Citus, a query on the contact's shard)
    select t.* into v_token from drip.unsubscribe_token_topic(p_token) t;
    if v_token.contact_id is null then
        return;
    end if;
    return query
    select c.id,
           -- enough for the reader to recognise the address, not enough to learn it from the link
           left(split_part(c.email, '@', 1), 1) || '•••@' || split_part(c.email, '@', 2),
           c.unsubscribed_at is not null,
           t.id, t.name,
           exists (select from drip.topic_unsubscribes u where u.contact_id = c.id and u.topic_id = t.id)
    from drip.contacts c
    left join drip.topics t on t.id = v_token.topic_id
    where c.id = v_token.contact_id;
end
$$;
revoke all on function drip.unsubscribe_target(text) from public;

create or replace function drip.unsubscribe_topics(p_token text)
returns table (topic_id bigint, name text, description text, unsubscribed boolean)
language plpgsql stable
security definer
set search_path = ''
as $$
declare
    v_contact bigint;
    v_left bigint[];
begin
    select t.contact_id into v_contact from drip.unsubscribe_token_topic(p_token) t;
    if v_contact is null then
        return;
    end if;
    -- the contact's topics left, read on their own (on Citus, one shard), then every topic
    select array_agg(u.topic_id) into v_left from drip.topic_unsubscribes u where u.contact_id = v_contact;
    return query
    select t.id, t.name, t.description, t.id = any (coalesce(v_left, '{}'))
    from drip.topics t
    order by lower(t.name), t.id;
end
$$;
revoke all on function drip.unsubscribe_topics(text) from public;
