-- drip.cancel_enrollment(p_enrollment_id bigint) returns boolean
-- Cancels an enrollment and its queued mail; true if it was active. An unknown id is an error.
create or replace function drip.cancel_enrollment(p_enrollment_id bigint) returns boolean
language plpgsql volatile
set search_path = ''
as $$
declare
    v_was_active boolean;
begin
    update drip.enrollments e
    set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
    where e.id = p_enrollment_id and e.status = 'active';
    v_was_active := found;
    if not v_was_active and not exists (select 1 from drip.enrollments e where e.id = p_enrollment_id) then
        raise exception 'enrollment % does not exist', coalesce(p_enrollment_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_enrollment_id', detail = 'field: p_enrollment_id',
                  hint = 'List enrollments with: select * from drip.enrollment_overview';
    end if;
    update drip.outbox o set status = 'cancelled', last_error = 'enrollment cancelled'
    where o.enrollment_id = p_enrollment_id and o.status = 'queued';
    return v_was_active;
end
$$;
