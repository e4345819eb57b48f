-- drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
-- Records that a runner is alive, for `pgdrip status`.
create or replace function drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
language sql volatile
set search_path = ''
as $$
    insert into drip.runners (name, host, pid) values (p_name, p_host, p_pid)
    on conflict (name) do update set seen_at = now(), host = excluded.host, pid = excluded.pid
$$;
