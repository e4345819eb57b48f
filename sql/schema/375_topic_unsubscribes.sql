-- table drip.topic_unsubscribes
-- A contact who left one topic: while the row exists, the topic's marketing sequences neither
-- enroll nor mail the contact, and inserting it cancels their active enrollments and queued mail
-- in the writer's transaction (topic_unsubscribes__stop). Deleting it resubscribes. `via` says
-- how (one-click, preferences, admin, or NULL for the application's own).
create table drip.topic_unsubscribes (
    contact_id bigint not null,
    topic_id bigint not null,
    unsubscribed_at timestamptz not null default now(),
    via text,
    primary key (contact_id, topic_id)
);
