-- drip.admin_session_open(p_user text, p_token_hash bytea, p_csrf text) returns void
-- drip.admin_session(p_token_hash bytea) returns table (user_name text, csrf text)
-- drip.admin_session_close(p_token_hash bytea) returns void
-- The admin pages' sessions (drip.admin_sessions): opened at sign-in (ending any that are over),
-- looked up on every request, closed at sign-out, which refuses the cookie from then on. A
-- session ends when idle for 12 hours, and in any case 24 hours after sign-in (the last use is
-- noted at most once a minute). `pgdrip serve` keys the stored hash with the credentials, so a
-- new PGDRIP_ADMIN_USER or PGDRIP_ADMIN_PASSWORD finds none of the sessions opened before.
create or replace function drip.admin_session_open(p_user text, p_token_hash bytea, p_csrf text) returns void
language sql volatile
set search_path = ''
as $$
    delete from drip.admin_sessions s
    where s.seen_at < now() - interval '12 hours' or s.created_at < now() - interval '24 hours';
    insert into drip.admin_sessions (token_hash, user_name, csrf) values (p_token_hash, p_user, p_csrf);
$$;

-- PL/pgSQL, with the times as values: Citus cannot plan a SQL function's parameters into an
-- UPDATE of a reference table, nor a STABLE function inside its CASE
create or replace function drip.admin_session(p_token_hash bytea) returns table (user_name text, csrf text)
language plpgsql volatile
set search_path = ''
as $$
declare
    v_now constant timestamptz := now();
    v_idle constant timestamptz := now() - interval '12 hours';
    v_born constant timestamptz := now() - interval '24 hours';
    v_note constant timestamptz := now() - interval '1 minute';
begin
    return query
    update drip.admin_sessions s
    set seen_at = case when s.seen_at < v_note then v_now else s.seen_at end
    where s.token_hash = p_token_hash and s.seen_at >= v_idle and s.created_at >= v_born
    returning s.user_name, s.csrf;
end
$$;

create or replace function drip.admin_session_close(p_token_hash bytea) returns void
language sql volatile
set search_path = ''
as $$
    delete from drip.admin_sessions s where s.token_hash = p_token_hash
$$;
