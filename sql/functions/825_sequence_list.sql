-- view drip.sequence_list
-- The admin pages' list of sequences: drip.sequence_overview with the description, the goal, and
-- each sequence's report totals (sent, clicks, unsubscribes) from drip.sequence_report's counters.
create or replace view drip.sequence_list as
select o.id, o.name, o.trigger_type, o.trigger_value, o.step_count, o.active_enrollments, o.active,
       r.sent, r.clicks, r.unsubscribes
from drip.sequence_overview o
join drip.sequence_report r on r.sequence_id = o.id;
