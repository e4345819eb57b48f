-- table drip.outbox
-- Rendered messages waiting for, or done with, the sender.
create table drip.outbox (
    id bigint generated always as identity primary key,
    enrollment_id bigint not null,
    step_id bigint not null,
    contact_id bigint not null,
    to_address text not null,
    subject text not null,
    html_body text not null,
    -- the text part, rendered beside the HTML (NULL only for rows queued before the second release)
    text_body text,
    -- the List-Unsubscribe header value, when the settings give one
    list_unsubscribe text,
    -- the List-Id header value: one list per sequence
    list_id text,
    -- where each tracked link leads, in order (a redirect goes nowhere else)
    links text[],
    status text not null default 'queued'
        constraint outbox_status_check check (status in ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts int not null default 0,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    last_error text,
    -- stable across retries; a random UUID, so unique without an index (a unique index on random
    -- keys cost a random B-tree page per queued row and made dispatch slow down as the outbox grew)
    message_id text not null default '<' || gen_random_uuid() || '@pgdrip>',
    -- queued: when the row may next be tried; sending: when its lease runs out
    next_attempt_at timestamptz not null default now(),
    locked_by text,
    -- behaviour 25: the variant sent (drip.step_variants); NULL: the step's own content
    variant_id bigint
);
-- One outbox row per (enrollment, step), whatever the concurrency.
create unique index outbox_enrollment_step on drip.outbox (enrollment_id, step_id);
-- The drain claims from this index only: queued rows and expired leases.
create index outbox_sendable on drip.outbox (next_attempt_at, id) where status in ('queued', 'sending');
create index outbox_contact_pending on drip.outbox (contact_id) where status in ('queued', 'sending');
create index outbox_failed on drip.outbox (id) where status = 'failed';
-- Retention (drip.prune) walks finished mail by time: ids are not in time order on Citus.
create index outbox_finished on drip.outbox (created_at, id) where status in ('sent', 'failed', 'cancelled');
alter table drip.outbox set (autovacuum_vacuum_scale_factor = 0.05, fillfactor = 90);
