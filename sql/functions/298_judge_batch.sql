-- drip.judge_batch(p_claimed bigint[], p_now timestamptz, p_near regclass default null, out skip_ids bigint[], out exit_ids bigint[])
-- The conditions of a dispatch batch (behaviours 19 and 22), judged at p_now: exit_ids holds the
-- claimed enrollments whose sequence's exit_condition holds, skip_ids those whose next active step
-- has a send_if that does not. One statement per distinct condition among the batch's rows
-- (drip.condition_predicate), each over all the rows it applies to: never one call per row.
-- drip.dispatch_batch and drip.dispatch_shard call it between claiming a batch and queueing it.
create or replace function drip.judge_batch(
    p_claimed bigint[], p_now timestamptz, p_near regclass default null, out skip_ids bigint[], out exit_ids bigint[]
)
language plpgsql volatile
set search_path = ''
set jit = off
set citus.allow_nested_distributed_execution = on
as $$
declare
    v_is_exit boolean;
    v_condition jsonb;
    v_rows bigint[];
    v_ids bigint[];
    v_enrollments constant text := drip.local_table(p_near, 'enrollments');
begin
    if p_claimed is null then
        return;
    end if;
    for v_is_exit, v_condition, v_rows in execute format($sql$
        select true as is_exit, s.exit_condition as condition, array_agg(e.id) as ids
        from %1$s e
        join %2$s s on s.id = e.sequence_id
        where e.id = any ($1) and s.exit_condition is not null
        group by s.id, s.exit_condition
        union all
        select false, cur.send_if, array_agg(e.id)
        from %1$s e
        join lateral (select st.id, st.send_if from %3$s st
                      where st.sequence_id = e.sequence_id and st.active and st.step_order > e.last_step_order_sent
                      order by st.step_order limit 1) cur on true
        where e.id = any ($1) and cur.send_if is not null
        group by cur.id, cur.send_if$sql$,
        v_enrollments, drip.local_table(p_near, 'sequences'), drip.local_table(p_near, 'sequence_steps'))
        using p_claimed
    loop
        execute format('select array_agg(e.id) from %s e join %s c on c.id = e.contact_id where e.id = any ($1) and %s%s',
                       v_enrollments, drip.local_table(p_near, 'contacts'), case when v_is_exit then '' else 'not ' end,
                       drip.condition_predicate(v_condition, true, '$2', p_near))
        into v_ids
        using v_rows, p_now;
        if v_is_exit then
            exit_ids := exit_ids || v_ids;
        else
            skip_ids := skip_ids || v_ids;
        end if;
    end loop;
end
$$;
revoke all on function drip.judge_batch(bigint[], timestamptz, regclass) from public;
comment on function drip.judge_batch(bigint[], timestamptz, regclass) is
    'Judges the send_if and exit conditions of a claimed dispatch batch: which enrollments skip their step, which exit.';
