-- drip.pick(p_values anyarray, p_subscripts integer[]) returns anyarray
-- The elements of p_values at p_subscripts, in that order; p_values itself when p_subscripts
-- lists every subscript in order (no copy of a large array for the common case).
create or replace function drip.pick(p_values anyarray, p_subscripts integer[]) returns anyarray
language sql immutable parallel safe
set search_path = ''
as $$
    select case when p_subscripts = array(select generate_subscripts(p_values, 1)) then p_values
                else array(select p_values[i] from unnest(p_subscripts) with ordinality as u (i, n) order by u.n) end
$$;
