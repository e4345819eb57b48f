-- view drip.variant_report (step_id, variant_id, name, sent, unique_clickers, click_rate, unsubscribes, p_value)
-- One row per arm of every step that has (or had) variants (behaviour 25): variant_id NULL is the
-- step's own content ('control'). Counts come from the counters the step report keeps
-- (drip.step_stats, per arm), so the report reads a few rows per arm whatever the size of the
-- outbox, and keeps its counts when the outbox is pruned. click_rate = unique_clickers / sent;
-- p_value is the two-sided two-proportion z-test of the arm's unique-click rate against the
-- control's (drip.two_proportion_p: the normal approximation), NULL for the control row and
-- while either arm has sent nothing.
create or replace view drip.variant_report as
with arms as (
    select v.step_id, null::bigint as variant_id, 'control'::text as name from drip.step_variants v
    group by v.step_id
    union all
    select v.step_id, v.id, v.name from drip.step_variants v
), counts as (
    -- summed per arm first, then joined: Citus plans no outer join from a reference table to a
    -- distributed one, and the sums are the same on one server
    select k.step_id, k.variant_id, sum(k.sent) as sent, sum(k.unique_clickers) as unique_clickers,
           sum(k.unsubscribes) + sum(k.topic_unsubscribes) as unsubscribes
    from drip.step_stats k
    where k.step_id in (select v.step_id from drip.step_variants v)
    group by k.step_id, k.variant_id
), joined as (
    select a.step_id, a.variant_id, a.name, coalesce(c.sent, 0)::bigint as sent,
           coalesce(c.unique_clickers, 0)::bigint as unique_clickers, coalesce(c.unsubscribes, 0)::bigint as unsubscribes
    from arms a
    left join counts c on c.step_id = a.step_id and c.variant_id is not distinct from a.variant_id
)
select j.step_id, j.variant_id, j.name, j.sent, j.unique_clickers,
       case when j.sent > 0 then round(j.unique_clickers::numeric / j.sent, 4) end as click_rate,
       j.unsubscribes,
       case when j.variant_id is not null
            then drip.two_proportion_p(j.unique_clickers, j.sent, b.unique_clickers, b.sent) end as p_value
from joined j
join joined b on b.step_id = j.step_id and b.variant_id is null;
comment on view drip.variant_report is
    'Per arm of a step with variants: sent, unique clickers, click rate, unsubscribes, p-value against the step''s own content.';

-- view drip.sequence_conversion (sequence_id, mailed, mailed_exited, holdout, holdout_exited)
-- Per sequence (behaviour 25): enrollments that were mailed and those held out, and how many of
-- each reached the goal (status exited). Counted from drip.enrollments (pruned ones are gone).
create or replace view drip.sequence_conversion as
select s.id as sequence_id,
       coalesce(x.mailed, 0)::bigint as mailed, coalesce(x.mailed_exited, 0)::bigint as mailed_exited,
       coalesce(x.holdout, 0)::bigint as holdout, coalesce(x.holdout_exited, 0)::bigint as holdout_exited
from drip.sequences s
left join (
    select e.sequence_id,
           count(*) filter (where not e.holdout) as mailed,
           count(*) filter (where not e.holdout and e.status = 'exited') as mailed_exited,
           count(*) filter (where e.holdout) as holdout,
           count(*) filter (where e.holdout and e.status = 'exited') as holdout_exited
    from drip.enrollments e
    group by e.sequence_id
) x on x.sequence_id = s.id;
comment on view drip.sequence_conversion is
    'Per sequence: enrollments mailed and held out, and how many of each reached the goal.';
