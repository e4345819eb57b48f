-- table drip.enrollments
-- A contact's progress through a sequence. No foreign keys: pgdrip is the only writer and takes
-- both ids from a join, and per-row key checks tripled the cost of bulk enrollment. Deleting a
-- contact cascades by trigger (contacts__forget); deleting a sequence with enrollments is refused
-- (sequences__protect).
create table drip.enrollments (
    id bigint generated always as identity primary key,
    sequence_id bigint not null,
    contact_id bigint not null,
    status text not null default 'active'
        constraint enrollments_status_check check (status in ('active', 'completed', 'cancelled', 'exited')),
    last_step_order_sent int not null default 0,
    last_step_sent_at timestamptz,
    next_step_due_at timestamptz,
    enrolled_at timestamptz not null default now(),
    completed_at timestamptz,
    cancelled_at timestamptz,
    -- status 'exited': the contact reached the sequence's goal
    exited_at timestamptz,
    -- the anniversary date this enrollment celebrates (anniversary sequences only)
    occurrence date,
    -- event sequences: the key of the event that enrolled the contact, and that event (its payload
    -- fills {{event.X}} tags)
    event_key text,
    event_id bigint,
    -- behaviour 25: in the sequence's holdout group: goes through the steps, is sent nothing
    holdout boolean not null default false
);
-- At most one active enrollment per (sequence, contact), whatever the concurrency; for event
-- sequences per (sequence, contact, event key), a NULL key being one key value.
create unique index enrollments_one_active on drip.enrollments (sequence_id, contact_id, event_key) nulls not distinct
    where status = 'active';
-- An anniversary enrolls a contact at most once per (sequence, day).
create unique index enrollments_occurrence on drip.enrollments (sequence_id, contact_id, occurrence)
    where occurrence is not null;
-- The dispatcher reads only what is due: cost follows the due set, not history.
create index enrollments_due on drip.enrollments (next_step_due_at, id) where status = 'active';
create index enrollments_contact on drip.enrollments (contact_id) where status = 'active';
-- every enrollment of a (sequence, contact), whatever its status: reentry = 'never' looks here
create index enrollments_sequence_contact on drip.enrollments (sequence_id, contact_id);
-- dispatch takes its featured statement while some active enrollment is held out
create index enrollments_holdout on drip.enrollments (id) where holdout and status = 'active';
alter table drip.enrollments set (autovacuum_vacuum_scale_factor = 0.05, fillfactor = 90);
