-- drip.compact_step_stats() returns integer
-- Folds drip.step_stats into one row per (step, day), so drip.step_report stays a read of a few
-- rows per step. Safe beside the writers: rows they add meanwhile are left for the next time.
-- Returns how many rows it folded. The runner calls it every hour.
create or replace function drip.compact_step_stats() returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_folded integer;
begin
    with doubled as (
        select x.step_id, x.variant_id, x.day from drip.step_stats x
        group by x.step_id, x.variant_id, x.day having count(*) > 1
    ), gone as (
        delete from drip.step_stats x using doubled d
        where x.step_id = d.step_id and x.variant_id is not distinct from d.variant_id and x.day = d.day
        returning x.*
    ), folded as (
        insert into drip.step_stats (step_id, variant_id, day, contact_id, queued, sent, failed, cancelled, clicks,
                                     bot_clicks, unique_clickers, unsubscribes, skipped, cap_deferred,
                                     topic_unsubscribes, held_out)
        select g.step_id, g.variant_id, g.day, min(g.contact_id), sum(g.queued), sum(g.sent), sum(g.failed),
               sum(g.cancelled), sum(g.clicks), sum(g.bot_clicks), sum(g.unique_clickers), sum(g.unsubscribes),
               sum(g.skipped), sum(g.cap_deferred), sum(g.topic_unsubscribes), sum(g.held_out)
        from gone g
        group by g.step_id, g.variant_id, g.day
    )
    select count(*) into v_folded from gone;
    return v_folded;
end
$$;
