-- drip.contact_enrollments(p_contact_id bigint) returns table (id bigint, sequence_id bigint, sequence text, status text, last_step_order_sent integer, next_step_due_at timestamptz, enrolled_at timestamptz, ended_at timestamptz)
-- drip.contact_history(p_contact_id bigint, p_limit integer default 200) returns table (at timestamptz, kind text, sequence_id bigint, sequence text, step_order integer, subject text, detail text)
-- The admin pages' contact: every enrollment of the contact, and a timeline, newest first, of
-- what happened to it (enrolled, ended, each message queued / sent / failed / cancelled, clicks
-- by people and by bots, unsubscribed, bounced). Enrollments are found by probing
-- (sequence_id, contact_id) once per sequence, which needs no index on contact_id alone (one
-- would cost every enrollment an index entry).
create or replace function drip.contact_enrollments(p_contact_id bigint)
returns table (id bigint, sequence_id bigint, sequence text, status text, last_step_order_sent integer,
               next_step_due_at timestamptz, enrolled_at timestamptz, ended_at timestamptz)
language sql stable
set search_path = ''
as $$
    select e.id, s.id, s.name, e.status, e.last_step_order_sent, e.next_step_due_at, e.enrolled_at,
           coalesce(e.completed_at, e.cancelled_at, e.exited_at)
    from drip.sequences s
    join lateral (
        select * from drip.enrollments e where e.sequence_id = s.id and e.contact_id = p_contact_id
    ) e on true
    order by e.enrolled_at desc, e.id desc
$$;

create or replace function drip.contact_history(p_contact_id bigint, p_limit integer default 200)
returns table (at timestamptz, kind text, sequence_id bigint, sequence text, step_order integer, subject text,
               detail text)
language sql stable
set search_path = ''
as $$
    with enr as (
        select * from drip.contact_enrollments(p_contact_id)
    ), events as (
        select e.enrolled_at as at, 'enrolled' as kind, e.sequence_id, e.sequence, null::integer as step_order,
               null::text as subject, null::text as detail
        from enr e
        union all
        select e.ended_at, e.status, e.sequence_id, e.sequence, e.last_step_order_sent, null, null
        from enr e where e.ended_at is not null
        union all
        select coalesce(o.sent_at, o.created_at), 'mail ' || o.status, e.sequence_id, e.sequence, st.step_order,
               o.subject, o.last_error
        from enr e
        join drip.outbox o on o.enrollment_id = e.id
        left join drip.sequence_steps st on st.id = o.step_id
        union all
        select k.clicked_at, case when k.bot_reason is null then 'click' else 'bot click' end, st.sequence_id, s.name,
               st.step_order, null, coalesce(k.url, 'honeypot') || coalesce(' (' || k.bot_reason || ')', '')
        from drip.clicks k
        left join drip.sequence_steps st on st.id = k.step_id
        left join drip.sequences s on s.id = st.sequence_id
        where k.contact_id = p_contact_id
        union all
        select u.unsubscribed_at, 'unsubscribed', st.sequence_id, s.name, st.step_order, null, 'via ' || u.via
        from drip.unsubscribes u
        left join drip.sequence_steps st on st.id = u.step_id
        left join drip.sequences s on s.id = st.sequence_id
        where u.contact_id = p_contact_id
        union all
        select c.bounced_at, 'bounced', null, null, null, null, 'the mail server said the mailbox does not exist'
        from drip.contacts c where c.id = p_contact_id and c.bounced_at is not null
    )
    select * from events order by at desc nulls last limit p_limit
$$;

-- drip.unsubscribe_contact(p_contact_id bigint, p_via text default 'admin') returns boolean
-- Unsubscribes a contact by hand (the admin pages' button): sets unsubscribed_at, which cancels
-- its enrollments and queued mail (contacts__stop), and notes it in drip.unsubscribes. True if
-- it was subscribed; an unknown id is an error.
create or replace function drip.unsubscribe_contact(p_contact_id bigint, p_via text default 'admin') returns boolean
language plpgsql volatile
set search_path = ''
as $$
begin
    update drip.contacts c set unsubscribed_at = now() where c.id = p_contact_id and c.unsubscribed_at is null;
    if found then
        insert into drip.unsubscribes (contact_id, via) values (p_contact_id, left(coalesce(p_via, 'admin'), 40));
        return true;
    end if;
    if not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    return false;
end
$$;
