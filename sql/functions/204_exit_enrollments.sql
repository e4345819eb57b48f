-- drip.exit_enrollments(p_ids bigint[], p_reason text, p_near regclass default null) returns integer
-- Ends enrollments as exited (behaviours 12 and 22): each of p_ids still active becomes
-- 'exited', with exited_at now, and its queued or in-flight mail is cancelled with p_reason as
-- last_error. The enrollments are updated in id order (= ANY on the primary key visits the ids
-- ascending, so concurrent writers lock in one order and cannot deadlock), and the mail is
-- cancelled by a second statement, whose snapshot sees what a dispatcher that held one of them
-- committed meanwhile. Returns how many exited. Next to p_near on Citus (drip.local_table).
create or replace function drip.exit_enrollments(p_ids bigint[], p_reason text, p_near regclass default null)
returns integer
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_exited bigint[];
begin
    if coalesce(cardinality(p_ids), 0) = 0 then
        return 0;
    end if;
    execute format($sql$
        with exited as (
            update %s e
            set status = 'exited', exited_at = now(), next_step_due_at = null
            where e.id = any ($1) and e.status = 'active'
            returning e.id
        )
        select array_agg(x.id) from exited x$sql$, drip.local_table(p_near, 'enrollments'))
    into v_exited
    using p_ids;
    if v_exited is null then
        return 0;
    end if;
    execute format($sql$
        update %s o
        set status = 'cancelled', last_error = $2
        from unnest($1) as x (id)
        where o.enrollment_id = x.id and o.status in ('queued', 'sending')$sql$, drip.local_table(p_near, 'outbox'))
    using v_exited, p_reason;
    return cardinality(v_exited);
end
$$;
revoke all on function drip.exit_enrollments(bigint[], text, regclass) from public;
comment on function drip.exit_enrollments(bigint[], text, regclass) is
    'Ends the given active enrollments as exited and cancels their unsent mail.';
