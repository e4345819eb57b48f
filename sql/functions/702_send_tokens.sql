-- drip.take_send_tokens(p_rate double precision, p_want integer) returns integer
-- drip.return_send_tokens(p_rate double precision, p_count integer) returns void
-- PGDRIP_MAX_RATE for all runners of the database together: a token bucket in drip.send_rate
-- that refills at p_rate per second and holds at most one second's worth (so bursts are at
-- most p_rate messages). A runner takes tokens before it claims rows, sends at most what it
-- was granted, and returns what it could not use. The bucket row serialises the takers.
create or replace function drip.take_send_tokens(p_rate double precision, p_want integer) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_tokens double precision;
    v_at timestamptz;
    v_now timestamptz;
    v_granted integer;
begin
    if p_rate is null or p_rate <= 0 or p_rate > 1000000 or p_want is null or p_want < 0 then
        raise exception 'the send rate must be more than 0 and at most 1000000 messages per second, not %',
                coalesce(p_rate::text, 'NULL')
            using errcode = '22023', column = 'p_rate', detail = 'field: max_rate',
                  hint = 'Set PGDRIP_MAX_RATE (or --max-rate) to a positive number, or leave it unset.';
    end if;
    select r.tokens, r.refilled_at into v_tokens, v_at from drip.send_rate r for update;
    v_now := clock_timestamp();
    v_tokens := least(p_rate, v_tokens + p_rate * greatest(0, extract(epoch from v_now - v_at)));
    v_granted := least(floor(v_tokens)::integer, p_want);
    update drip.send_rate set tokens = v_tokens - v_granted, refilled_at = v_now;
    return v_granted;
end
$$;

create or replace function drip.return_send_tokens(p_rate double precision, p_count integer) returns void
language sql volatile
set search_path = ''
as $$
    update drip.send_rate set tokens = least(p_rate, tokens + greatest(p_count, 0))
$$;
