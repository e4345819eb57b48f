-- drip.record_click(p_token text, p_method text, p_ip inet, p_user_agent text, p_request_id uuid default null, p_again boolean default false) returns text
-- A request of a tracked link (`pgdrip serve`, GET /c/TOKEN). Returns the URL to redirect to,
-- always one stored with the message (drip.outbox.links, or drip.sent_links once prune has
-- deleted the message): never one from the request. '' for the honeypot. NULL, with nothing
-- written, for a token this database did not make (under any secret it holds) or whose message
-- or contact is gone. Repeatable: asked again (p_again) with the same p_request_id, after a
-- connection lost perhaps after the commit, it records nothing twice and returns the same URL
-- (`pgdrip serve` does so; only the repeat looks for the earlier click, so a first request pays
-- nothing for it).
-- The click is recorded (drip.clicks) and judged a bot, with its reason, when it is a HEAD
-- request, the honeypot, a known scanner's user agent (drip.bot_user_agents) or, only within
-- 10 seconds of the message being sent, within 2 seconds after its honeypot was requested, or
-- the GET that completes GETs of every link (2 or more) within 2 seconds (the earlier ones of
-- that burst are marked too). A bot click fires nothing. A person's first click in the
-- message goes into drip.link_clicks (mailing_id and step_id: the step), which fires
-- after_first_click. The step report's counters move with it, for the message's arm. SECURITY DEFINER: the web
-- process needs no rights on these tables.
drop function if exists drip.record_click(text, text, inet, text);
create or replace function drip.record_click(p_token text, p_method text, p_ip inet, p_user_agent text,
                                             p_request_id uuid default null, p_again boolean default false)
returns text
language plpgsql volatile
security definer
set search_path = ''
as $$
declare
    v_token record;
    v_message record;
    v_now timestamptz := clock_timestamp();
    v_agent text := left(p_user_agent, 500);
    v_url text;
    v_reason text;
    v_links integer;
    v_burst integer;
    v_id bigint;
    v_unique integer;
begin
    select t.* into v_token
    from drip.mail_settings m cross join lateral drip.read_token(m.link_key, p_token) t;
    if v_token.kind is distinct from 'c' then
        return null;
    end if;
    select o.links, coalesce(o.sent_at, o.created_at) as sent_at, o.variant_id into v_message
    from drip.outbox o
    where o.enrollment_id = v_token.enrollment_id and o.step_id = v_token.step_id
      and o.contact_id = v_token.contact_id;
    if not found then
        -- mail that prune deleted: its links were kept
        select k.links, k.sent_at, k.variant_id into v_message
        from drip.sent_links k
        where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
          and k.step_id = v_token.step_id;
        if not found then
            return null;
        end if;
    end if;
    v_links := coalesce(cardinality(v_message.links), 0);
    if v_token.link_no > v_links or not exists (select 1 from drip.contacts c where c.id = v_token.contact_id) then
        return null;
    end if;
    -- A click's record is committed without waiting for the disk: the reader is being redirected,
    -- and waiting for every flush made each click cost milliseconds. A server crash can lose the
    -- last fraction of a second of clicks; nothing else (an unsubscribe is committed durably).
    perform set_config('synchronous_commit', 'off', true);
    -- one click of a message at a time: the first-click and burst rules count what came before,
    -- and a repeated request finds the click it already recorded
    perform pg_advisory_xact_lock(7142, hashtext(v_token.enrollment_id || ':' || v_token.step_id));
    v_url := case when v_token.link_no = 0 then '' else v_message.links[v_token.link_no] end;
    if p_again and p_request_id is not null
       and exists (select 1 from drip.clicks k
                   where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                     and k.step_id = v_token.step_id and k.request_id = p_request_id) then
        return v_url;
    end if;

    v_reason := case
        when upper(p_method) = 'HEAD' then 'HEAD request'
        when v_token.link_no = 0 then 'honeypot link'
        else (select 'known scanner: ' || b.pattern from drip.bot_user_agents b
              where v_agent ~* b.pattern order by b.pattern limit 1) end;
    if v_reason is null and v_now - v_message.sent_at <= interval '10 seconds' then
        if exists (select 1 from drip.clicks k
                   where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                     and k.step_id = v_token.step_id and k.link_no = 0
                     and k.clicked_at >= v_now - interval '2 seconds') then
            v_reason := 'within 2 s of the honeypot';
        elsif v_links >= 2 and upper(p_method) = 'GET'
              and (select count(distinct k.link_no) from drip.clicks k
                   where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                     and k.step_id = v_token.step_id and k.method = 'GET' and k.link_no > 0
                     and k.link_no <> v_token.link_no and k.clicked_at >= v_now - interval '2 seconds')
                  = v_links - 1 then
            v_reason := 'every link within 2 s';
            with burst as (
                update drip.clicks k set bot_reason = 'every link within 2 s'
                where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                  and k.step_id = v_token.step_id and k.bot_reason is null
                  and k.clicked_at >= v_now - interval '2 seconds'
                returning 1
            )
            select count(*) into v_burst from burst;
            if v_burst > 0 then
                insert into drip.step_stats (step_id, variant_id, day, contact_id, clicks, bot_clicks)
                values (v_token.step_id, v_message.variant_id, (v_now at time zone 'UTC')::date, v_token.contact_id,
                        -v_burst, v_burst);
            end if;
        end if;
    end if;

    insert into drip.clicks (contact_id, enrollment_id, step_id, link_no, url, clicked_at, ip, user_agent, method,
                             bot_reason, request_id)
    values (v_token.contact_id, v_token.enrollment_id, v_token.step_id, v_token.link_no, nullif(v_url, ''), v_now,
            p_ip, v_agent, upper(left(p_method, 10)), v_reason, p_request_id)
    returning id into v_id;

    if v_reason is not null then
        insert into drip.step_stats (step_id, variant_id, day, contact_id, bot_clicks)
        values (v_token.step_id, v_message.variant_id, (v_now at time zone 'UTC')::date, v_token.contact_id, 1);
        return v_url;
    end if;
    -- the probe first: Citus refuses subqueries inside INSERT ... VALUES
    v_unique := case when exists (select 1 from drip.clicks k
                                  where k.contact_id = v_token.contact_id and k.step_id = v_token.step_id
                                    and k.bot_reason is null and k.id <> v_id) then 0 else 1 end;
    -- counted for the arm the message was (drip.variant_report)
    insert into drip.step_stats (step_id, variant_id, day, contact_id, clicks, unique_clickers)
    values (v_token.step_id, v_message.variant_id, (v_now at time zone 'UTC')::date, v_token.contact_id, 1, v_unique);
    if not exists (select 1 from drip.clicks k
                   where k.contact_id = v_token.contact_id and k.enrollment_id = v_token.enrollment_id
                     and k.step_id = v_token.step_id and k.bot_reason is null and k.id <> v_id) then
        insert into drip.link_clicks (contact_id, mailing_id, url, clicked_at, step_id)
        values (v_token.contact_id, v_token.step_id, v_url, v_now, v_token.step_id);
    end if;
    return v_url;
end
$$;
revoke all on function drip.record_click(text, text, inet, text, uuid, boolean) from public;
comment on function drip.record_click(text, text, inet, text, uuid, boolean) is
    'Records a tracked-link request, judges it (person or bot), fires after_first_click; returns the stored URL.';
