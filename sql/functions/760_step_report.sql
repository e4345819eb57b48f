-- view drip.step_report
-- Per step: messages queued (or being sent), sent, failed and cancelled; human clicks, bot
-- clicks, contacts with a human click, and unsubscribes through the step's mail; steps skipped
-- because their send_if was false (behaviour 19); times a frequency cap held the step back, and
-- contacts who left its topic through its mail (behaviours 23, 24); steps not sent because the
-- enrollment was held out (behaviour 25). Every arm of a step together. Added up from
-- drip.step_stats, which the writers keep and drip.compact_step_stats folds daily, so it reads a
-- few rows per step whatever the size of the outbox, and keeps its counts when the outbox is pruned.
-- The counters summed per step first, then joined to the steps: Citus plans no outer join from
-- a reference table to a distributed one, and a sum per step is the same on one server.
create or replace view drip.step_report as
select st.sequence_id, st.id as step_id, st.step_order,
       coalesce(x.queued, 0)::bigint as queued,
       coalesce(x.sent, 0)::bigint as sent,
       coalesce(x.failed, 0)::bigint as failed,
       coalesce(x.cancelled, 0)::bigint as cancelled,
       coalesce(x.clicks, 0)::bigint as clicks,
       coalesce(x.bot_clicks, 0)::bigint as bot_clicks,
       coalesce(x.unique_clickers, 0)::bigint as unique_clickers,
       coalesce(x.unsubscribes, 0)::bigint as unsubscribes,
       coalesce(x.skipped, 0)::bigint as skipped,
       coalesce(x.cap_deferred, 0)::bigint as cap_deferred,
       coalesce(x.topic_unsubscribes, 0)::bigint as topic_unsubscribes,
       coalesce(x.held_out, 0)::bigint as held_out
from drip.sequence_steps st
left join (
    select k.step_id, sum(k.queued) as queued, sum(k.sent) as sent, sum(k.failed) as failed,
           sum(k.cancelled) as cancelled, sum(k.clicks) as clicks, sum(k.bot_clicks) as bot_clicks,
           sum(k.unique_clickers) as unique_clickers, sum(k.unsubscribes) as unsubscribes,
           sum(k.skipped) as skipped, sum(k.cap_deferred) as cap_deferred,
           sum(k.topic_unsubscribes) as topic_unsubscribes, sum(k.held_out) as held_out
    from drip.step_stats k
    group by k.step_id
) x on x.step_id = st.id;
