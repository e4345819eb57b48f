-- view drip.sequence_overview
-- One row per sequence: trigger, step count, active enrollments, active flag.
create or replace view drip.sequence_overview as
select s.id, s.name, s.trigger_type, s.trigger_value,
       (select count(*) from drip.sequence_steps st where st.sequence_id = s.id and st.active)::integer as step_count,
       (select count(*) from drip.enrollments e where e.sequence_id = s.id and e.status = 'active')::integer
           as active_enrollments,
       s.active
from drip.sequences s;
