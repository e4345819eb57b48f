-- view drip.enrollment_overview
-- One row per enrollment: sequence, contact email, status (active, completed, cancelled, exited)
-- and progress.
create or replace view drip.enrollment_overview as
select e.id, e.sequence_id, s.name as sequence, e.contact_id, c.email as contact_email,
       e.status, e.last_step_order_sent, e.next_step_due_at, e.enrolled_at
from drip.enrollments e
join drip.sequences s on s.id = e.sequence_id
join drip.contacts c on c.id = e.contact_id;
