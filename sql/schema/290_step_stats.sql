-- table drip.step_stats
-- What drip.step_report adds up: per step and day, changes to the count of messages in each
-- state and of clicks and unsubscribes, appended by the writers (one row per statement and step,
-- see outbox__count) and compacted daily (drip.compact_step_stats), so a report reads a few rows
-- per step instead of the outbox. Pruning the outbox leaves them be. contact_id is one contact of
-- the rows counted: it keeps a delta on the shard of those rows on Citus.
create table drip.step_stats (
    step_id bigint not null,
    day date not null,
    contact_id bigint,
    queued bigint not null default 0,
    sent bigint not null default 0,
    failed bigint not null default 0,
    cancelled bigint not null default 0,
    clicks bigint not null default 0,
    bot_clicks bigint not null default 0,
    unique_clickers bigint not null default 0,
    unsubscribes bigint not null default 0,
    -- steps whose send_if was false (behaviour 19): nothing queued
    skipped bigint not null default 0,
    -- steps a frequency cap held back (behaviour 24), each time; and unsubscribes from one topic
    cap_deferred bigint not null default 0,
    topic_unsubscribes bigint not null default 0,
    -- behaviour 25: the arm the counts are of (NULL: the step's own content), and steps not sent
    -- because the enrollment is held out
    variant_id bigint,
    held_out bigint not null default 0
);
create index step_stats_step on drip.step_stats (step_id);
