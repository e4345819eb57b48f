-- view drip.sequence_overview
-- One row per sequence: trigger, step count, active enrollments, active flag.
-- Two forms of one view: on one server, counts probed per sequence by index (the admin list
-- reads it for every page); on Citus, where a correlated subquery from a reference table is not
-- planned, the counts grouped first and joined.
do $view$
begin
    if drip.is_distributed() then
        create or replace view drip.sequence_overview as
        select s.id, s.name, s.trigger_type, s.trigger_value, coalesce(st.n, 0)::integer as step_count,
               coalesce(e.n, 0)::integer as active_enrollments, s.active
        from drip.sequences s
        left join (select st.sequence_id, count(*) as n from drip.sequence_steps st where st.active
                   group by st.sequence_id) st on st.sequence_id = s.id
        left join (select e.sequence_id, count(*) as n from drip.enrollments e where e.status = 'active'
                   group by e.sequence_id) e on e.sequence_id = s.id;
    else
        create or replace view drip.sequence_overview as
        select s.id, s.name, s.trigger_type, s.trigger_value,
               (select count(*) from drip.sequence_steps st where st.sequence_id = s.id and st.active)::integer
                   as step_count,
               (select count(*) from drip.enrollments e where e.sequence_id = s.id and e.status = 'active')::integer
                   as active_enrollments,
               s.active
        from drip.sequences s;
    end if;
end
$view$;
