-- view drip.step_report
-- Per step: messages queued (or being sent), sent, failed and cancelled; human clicks, bot
-- clicks, contacts with a human click, and unsubscribes through the step's mail. Added up from
-- drip.step_stats, which the writers keep and drip.compact_step_stats folds daily, so it reads a
-- few rows per step whatever the size of the outbox, and keeps its counts when the outbox is pruned.
create or replace view drip.step_report as
select st.sequence_id, st.id as step_id, st.step_order,
       coalesce(sum(x.queued), 0)::bigint as queued,
       coalesce(sum(x.sent), 0)::bigint as sent,
       coalesce(sum(x.failed), 0)::bigint as failed,
       coalesce(sum(x.cancelled), 0)::bigint as cancelled,
       coalesce(sum(x.clicks), 0)::bigint as clicks,
       coalesce(sum(x.bot_clicks), 0)::bigint as bot_clicks,
       coalesce(sum(x.unique_clickers), 0)::bigint as unique_clickers,
       coalesce(sum(x.unsubscribes), 0)::bigint as unsubscribes
from drip.sequence_steps st
left join drip.step_stats x on x.step_id = st.id
group by st.sequence_id, st.id, st.step_order;
