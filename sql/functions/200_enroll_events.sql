-- drip.enroll_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null) returns integer
-- Set-based heart of enrollment: every (contact, value) event enrolls the contact into each
-- active sequence of that type whose value is NULL or matches. Returns new enrollments.
-- Fast path: a plain INSERT of the pairs not already enrolled (ON CONFLICT's speculative
-- insertion cost 27 % more in bulk). If a concurrent writer enrolled one of the pairs first,
-- the unique index refuses it and the same rows go through ON CONFLICT DO NOTHING instead.
create or replace function drip.enroll_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
-- bulk events (100k tags in one INSERT) sort and hash in memory rather than on disk
set work_mem = '64MB'
set jit = off
as $$
declare
    v_count integer;
    v_due_now boolean;
begin
    begin
        with inserted as (
            insert into drip.enrollments (sequence_id, contact_id, next_step_due_at, occurrence)
            select c.sequence_id, c.contact_id, now() + c.first_delay * interval '1 hour', p_occurrence
            from drip.enrollment_candidates(p_trigger_type, p_contact_ids, p_values) c
            where not exists (select from drip.enrollments e
                              where e.sequence_id = c.sequence_id and e.contact_id = c.contact_id
                                and e.status = 'active')
              and (p_occurrence is null
                   or not exists (select from drip.enrollments e
                                  where e.sequence_id = c.sequence_id and e.contact_id = c.contact_id
                                    and e.occurrence = p_occurrence))
            -- one lock order for every writer, so concurrent bulk enrollments cannot deadlock
            order by c.sequence_id, c.contact_id
            returning next_step_due_at
        )
        select count(*), coalesce(bool_or(next_step_due_at <= now()), false)
        into v_count, v_due_now
        from inserted;
    exception when unique_violation then
        with inserted as (
            insert into drip.enrollments (sequence_id, contact_id, next_step_due_at, occurrence)
            select c.sequence_id, c.contact_id, now() + c.first_delay * interval '1 hour', p_occurrence
            from drip.enrollment_candidates(p_trigger_type, p_contact_ids, p_values) c
            order by c.sequence_id, c.contact_id
            on conflict do nothing
            returning next_step_due_at
        )
        select count(*), coalesce(bool_or(next_step_due_at <= now()), false)
        into v_count, v_due_now
        from inserted;
    end;

    if v_due_now then
        perform pg_notify('drip_due', '');
    end if;
    return v_count;
end
$$;
revoke all on function drip.enroll_events(text, bigint[], text[], date) from public;
comment on function drip.enroll_events(text, bigint[], text[], date) is
    'Enrolls each (contact, value) event into every matching active sequence; returns new enrollments.';
