-- drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
-- Records that a runner is alive, for `pgdrip status`.
create or replace function drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
language sql volatile
set search_path = ''
as $$
    -- excluded.seen_at, not now(): Citus refuses non-immutable functions in DO UPDATE
    insert into drip.runners (name, host, pid, seen_at) values (p_name, p_host, p_pid, now())
    on conflict (name) do update set seen_at = excluded.seen_at, host = excluded.host, pid = excluded.pid
$$;
