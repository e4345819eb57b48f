-- drip.sequence_enrollments(p_sequence_id bigint, p_status text default null, p_email text default null, p_after_contact bigint default null, p_after_id bigint default null, p_limit integer default 50) returns table (id bigint, contact_id bigint, email text, status text, last_step_order_sent integer, next_step_order integer, next_subject text, next_step_due_at timestamptz, enrolled_at timestamptz, ended_at timestamptz)
-- drip.count_enrollments(p_sequence_id bigint, p_status text default null, p_email text default null) returns bigint
-- drip.count_cancellable(p_sequence_id bigint, p_status text default null, p_email text default null) returns bigint
-- drip.cancel_enrollments(p_sequence_id bigint, p_status text default null, p_email text default null) returns integer
-- The admin pages' enrollments of a sequence, filtered by status and by email (exact, any
-- case): a page of them in (contact_id, id) order after a keyset (never OFFSET, so page 1,000 is
-- as fast as page 1), each with the step it is on and the next one; how many match; how many
-- of those cancelling would cancel (the active ones); and cancelling every active one that
-- matches (with its queued mail), which returns how many. A status that is not one of the four
-- is refused by each (22023, field status): never read as "any status".
-- Each builds only the conditions it was given, so the planner sees the status it can use a
-- partial index for.
create or replace function drip.sequence_enrollments(
    p_sequence_id bigint, p_status text default null, p_email text default null,
    p_after_contact bigint default null, p_after_id bigint default null, p_limit integer default 50
) returns table (id bigint, contact_id bigint, email text, status text, last_step_order_sent integer,
                 next_step_order integer, next_subject text, next_step_due_at timestamptz,
                 enrolled_at timestamptz, ended_at timestamptz)
language plpgsql stable
set search_path = ''
as $$
begin
    perform drip.check_enrollment_filter(p_status, p_limit);
    for id, contact_id, email, status, last_step_order_sent, next_step_order, next_subject, next_step_due_at,
        enrolled_at, ended_at in execute format($q$
        select e.id, e.contact_id, c.email, e.status, e.last_step_order_sent, nx.step_order, nx.subject,
               e.next_step_due_at, e.enrolled_at, coalesce(e.completed_at, e.cancelled_at, e.exited_at)
        from drip.enrollments e
        join drip.contacts c on c.id = e.contact_id
        left join lateral (
            select st.step_order, st.subject from drip.sequence_steps st
            where st.sequence_id = e.sequence_id and st.active and st.step_order > e.last_step_order_sent
              and e.status = 'active'
            order by st.step_order limit 1
        ) nx on true
        where e.sequence_id = $1 %s %s %s
        order by e.contact_id, e.id
        limit $6 $q$,
        case when p_status is not null then 'and e.status = $2' else '' end,
        case when p_email is not null
             then 'and e.contact_id = (select c2.id from drip.contacts c2 where lower(c2.email) = lower($3))' else '' end,
        case when p_after_contact is not null then 'and (e.contact_id, e.id) > ($4, coalesce($5, 0))' else '' end)
    using p_sequence_id, p_status, p_email, p_after_contact, p_after_id, p_limit
    loop
        return next;
    end loop;
end
$$;

create or replace function drip.check_enrollment_filter(p_status text, p_limit integer default 1) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_status is not null and p_status not in ('active', 'completed', 'cancelled', 'exited') then
        raise exception 'status must be active, completed, cancelled or exited, not %', quote_literal(left(p_status, 40))
            using errcode = '22023', column = 'status', detail = 'field: status',
                  hint = 'Leave it out for every status.';
    end if;
    if p_limit is null or p_limit not between 1 and 1000 then
        raise exception 'limit must be between 1 and 1000'
            using errcode = '22023', column = 'limit', detail = 'field: limit';
    end if;
end
$$;

create or replace function drip.count_enrollments(p_sequence_id bigint, p_status text default null,
                                                  p_email text default null) returns bigint
language plpgsql stable
set search_path = ''
as $$
declare
    v_count bigint;
begin
    perform drip.check_enrollment_filter(p_status);
    execute format($q$
        select count(*) from drip.enrollments e where e.sequence_id = $1 %s %s $q$,
        case when p_status is not null then 'and e.status = $2' else '' end,
        case when p_email is not null
             then 'and e.contact_id = (select c2.id from drip.contacts c2 where lower(c2.email) = lower($3))' else '' end)
    into v_count using p_sequence_id, p_status, p_email;
    return v_count;
end
$$;

create or replace function drip.count_cancellable(p_sequence_id bigint, p_status text default null,
                                                  p_email text default null) returns bigint
language plpgsql stable
set search_path = ''
as $$
begin
    perform drip.check_enrollment_filter(p_status);
    if p_status is not null and p_status <> 'active' then
        return 0;  -- only active enrollments can be cancelled (drip.cancel_enrollments)
    end if;
    return drip.count_enrollments(p_sequence_id, 'active', p_email);
end
$$;

create or replace function drip.cancel_enrollments(p_sequence_id bigint, p_status text default null,
                                                   p_email text default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_ids bigint[];
begin
    perform drip.check_enrollment_filter(p_status);
    if not exists (select 1 from drip.sequences s where s.id = p_sequence_id) then
        raise exception 'sequence % does not exist', coalesce(p_sequence_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_sequence_id', detail = 'field: p_sequence_id',
                  hint = 'List sequences with: pgdrip sequences list';
    end if;
    if p_status is not null and p_status <> 'active' then
        return 0;  -- only active enrollments can be cancelled
    end if;
    execute format($q$
        with cancelled as (
            update drip.enrollments e
            set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
            where e.sequence_id = $1 and e.status = 'active' %s
            returning e.id
        ) select coalesce(array_agg(id), '{}') from cancelled $q$,
        case when p_email is not null
             then 'and e.contact_id = (select c2.id from drip.contacts c2 where lower(c2.email) = lower($2))' else '' end)
    into v_ids using p_sequence_id, p_email;
    update drip.outbox o set status = 'cancelled', last_error = 'enrollment cancelled'
    where o.enrollment_id = any (v_ids) and o.status = 'queued';
    return cardinality(v_ids);
end
$$;
