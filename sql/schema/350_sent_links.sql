-- table drip.sent_links
-- Where the tracked links of sent mail lead, kept when drip.prune deletes the mail itself: a
-- link in a message stays readable (and clickable) long after its outbox row is gone. One narrow
-- row per pruned message that had links; drip.record_click reads it when the outbox row is gone.
create table drip.sent_links (
    contact_id bigint not null,
    enrollment_id bigint not null,
    step_id bigint not null,
    -- drip.outbox.links: the URL of each tracked link, in order
    links text[] not null,
    sent_at timestamptz not null,
    -- the arm the message was (behaviour 25): its clicks count for that arm
    variant_id bigint,
    primary key (contact_id, enrollment_id, step_id)
);
