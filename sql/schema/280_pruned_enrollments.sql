-- table drip.pruned_enrollments
-- What drip.prune must remember of the finished enrollments it deletes so that no behaviour
-- changes: that a contact was once in a reentry = 'never' sequence (occurrence NULL), and which
-- anniversary dates a contact was already enrolled for.
create table drip.pruned_enrollments (
    sequence_id bigint not null,
    contact_id bigint not null,
    occurrence date
);
-- unique, so drip.prune remembers each fact once with ON CONFLICT DO NOTHING (on Citus too)
create unique index pruned_enrollments_key on drip.pruned_enrollments (sequence_id, contact_id, occurrence)
    nulls not distinct;
