-- drip.conditions_read(p_source text) returns boolean
-- Whether a write to p_source ('tag', 'group', 'attribute', 'event', 'purchased', 'clicked', or
-- '*' for a new contact) can matter to a condition: some sequence's exit_condition reads it, or
-- some active segment's entry_condition does. The triggers ask this first, so that a database
-- without such conditions pays one look at drip.sequences per statement, nothing per row.
create or replace function drip.conditions_read(p_source text) returns boolean
language sql stable
set search_path = ''
as $$
    -- a new contact has no enrollment yet: only segments can care about it
    select exists (select from drip.sequences s
                   where (s.exit_condition is not null and p_source = any (s.exit_sources))
                      or (s.active and s.trigger_type = 'segment' and (p_source = any (s.entry_sources) or p_source = '*')))
$$;
