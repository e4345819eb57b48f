-- drip.days_mask(p_days integer[]) returns integer
-- ISO weekdays (1 = Monday .. 7 = Sunday) as bits (Monday = 1, Sunday = 64), NULL for NULL (every
-- day): sequences keep it in a generated column, so the dispatcher tests a day with one AND.
create function drip.days_mask(p_days integer[]) returns integer
language sql immutable parallel safe
set search_path = ''
as $$
    select case when p_days is null then null
                else coalesce(sum(distinct 1 << (d - 1)), 0)::integer end
    from unnest(p_days) d
    where d between 1 and 7
$$;
