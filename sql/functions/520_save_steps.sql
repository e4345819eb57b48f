-- drip.save_steps(p_sequence_id bigint, p_steps jsonb) returns table (step_id bigint, step_key text, old_order integer, new_order integer, action text, changed text[], will_receive integer, skipping integer)
-- Makes a sequence's steps the list p_steps (a JSON array; each element: optional id or key,
-- delay_hours, subject, html_body, optional active, send_if and wait_for_event; a condition may
-- be JSON text, and blank or null is none), in that order, without ever sending an
-- in-flight enrollment a step it already received. Used by `pgdrip apply` and the admin pages.
--
-- Matching keeps a step's row (and so its id, its text and what enrollments received of it):
--   1. an element with an id is that step of this sequence;
--   2. an element with a key is the step with that key (or a new one);
--   3. an element with neither is an unmatched keyless step with the same subject and body,
--      else the unmatched keyless step at the same position (an edit in place), else new.
-- Steps left unmatched are deactivated, never deleted, and moved after the list.
-- In-flight (active) enrollments keep their place: each continues after the last step it
-- passed, in the new order (a step inserted before that point is skipped for it; one moved
-- behind it is not sent again).
-- Returns one row per step: what happened to it ('insert', 'update', 'move', 'update+move',
-- 'unchanged', 'deactivate'), the fields that changed, how many active enrollments will
-- receive it, and how many will not because of this save (past a new step, or before a
-- deactivated one).
create or replace function drip.save_steps(p_sequence_id bigint, p_steps jsonb)
returns table (step_id bigint, step_key text, old_order integer, new_order integer, action text,
               changed text[], will_receive integer, skipping integer)
language plpgsql volatile
set search_path = ''
-- on Citus: the sequence (a reference table) is written after the enrollments (distributed)
set citus.multi_shard_modify_mode = 'sequential'
as $$
declare
    v_n integer;
    v_el jsonb;
    v_unknown text;
    -- existing steps, by step_order
    ex_id bigint[];
    ex_order integer[];
    ex_key text[];
    ex_subject text[];
    ex_body text[];
    ex_delay numeric[];
    ex_active boolean[];
    ex_send_if jsonb[];
    ex_wait text[];
    ex_new integer[];           -- the position each existing step moves to (NULL: deactivated)
    ex_pending integer[];       -- active enrollments that had not passed it, before the save
    v_sent integer[];           -- active enrollments by the position they have sent
    v_counts integer[];
    -- the new list
    nw_id bigint[] := '{}'::bigint[];
    nw_key text[] := '{}'::text[];
    nw_match integer[] := '{}'::integer[];  -- index into ex_*, or NULL for a new step
    v_idx integer;
    v_rest integer;
    v_field text;
    v_state text;
    v_message text;
    v_hint text;
    v_detail text;
begin
    if not exists (select 1 from drip.sequences s where s.id = p_sequence_id) then
        raise exception 'sequence % does not exist', coalesce(p_sequence_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_sequence_id', detail = 'field: p_sequence_id',
                  hint = 'List sequences with: pgdrip sequences list';
    end if;
    if p_steps is null or jsonb_typeof(p_steps) <> 'array' then
        raise exception 'steps must be a JSON array'
            using errcode = '22023', column = 'steps', detail = 'field: steps',
                  hint = 'Pass [{"delay_hours": 0, "subject": "...", "html_body": "..."}, ...].';
    end if;
    v_n := jsonb_array_length(p_steps);
    for i in 1 .. v_n loop
        v_el := p_steps -> (i - 1);
        if jsonb_typeof(v_el) <> 'object' then
            raise exception 'step % must be a JSON object', i
                using errcode = '22023', column = 'steps', detail = format('field: steps; step: %s', i);
        end if;
        select string_agg(k, ', ' order by k) into v_unknown from jsonb_object_keys(v_el) k
        where k not in ('id', 'key', 'delay_hours', 'subject', 'html_body', 'active', 'send_if', 'wait_for_event',
                        'control_weight');
        if v_unknown is not null then
            raise exception 'unknown step field(s): %', v_unknown
                using errcode = '22023', column = 'steps', detail = format('field: steps; step: %s', i),
                      hint = 'A step has id, key, delay_hours, subject, html_body, active, send_if, wait_for_event '
                             'and control_weight.';
        end if;
        nw_id := nw_id || (case when v_el ? 'id' and jsonb_typeof(v_el -> 'id') = 'number'
                                then (v_el ->> 'id')::bigint end);
        if v_el ? 'id' and nw_id[i] is null and jsonb_typeof(v_el -> 'id') <> 'null' then
            raise exception 'step id must be a number'
                using errcode = '22023', column = 'id', detail = format('field: id; step: %s', i);
        end if;
        nw_key := nw_key || nullif(v_el ->> 'key', '');
        nw_match := nw_match || null::integer;
        if nw_key[i] = any (nw_key[1:i - 1]) or nw_id[i] = any (nw_id[1:i - 1]) then
            raise exception 'step % appears twice in the list', coalesce(nw_key[i], nw_id[i]::text)
                using errcode = '22023', column = case when nw_key[i] = any (nw_key[1:i - 1]) then 'key' else 'id' end,
                      detail = format('field: %s; step: %s',
                                      case when nw_key[i] = any (nw_key[1:i - 1]) then 'key' else 'id' end, i),
                      hint = 'Each step appears once, and each key names one step.';
        end if;
    end loop;

    -- Exclusive against dispatch batches (they take it shared): no batch reads these steps or
    -- moves these enrollments while they are renumbered.
    perform pg_advisory_xact_lock(drip.steps_lock_key());
    perform 1 from drip.sequences s where s.id = p_sequence_id for update;

    select coalesce(array_agg(st.id order by st.step_order), '{}'), coalesce(array_agg(st.step_order order by st.step_order), '{}'),
           coalesce(array_agg(st.key order by st.step_order), '{}'), coalesce(array_agg(st.subject order by st.step_order), '{}'),
           coalesce(array_agg(st.html_body order by st.step_order), '{}'), coalesce(array_agg(st.delay_hours order by st.step_order), '{}'),
           coalesce(array_agg(st.active order by st.step_order), '{}'),
           coalesce(array_agg(st.send_if order by st.step_order), '{}'),
           coalesce(array_agg(st.wait_for_event order by st.step_order), '{}')
    into ex_id, ex_order, ex_key, ex_subject, ex_body, ex_delay, ex_active, ex_send_if, ex_wait
    from drip.sequence_steps st where st.sequence_id = p_sequence_id;
    ex_new := array_fill(null::integer, array[greatest(cardinality(ex_id), 1)]);

    -- 1. ids, 2. keys
    for i in 1 .. v_n loop
        v_idx := null;
        if nw_id[i] is not null then
            v_idx := array_position(ex_id, nw_id[i]);
            if v_idx is null then
                raise exception 'step % is not a step of sequence %', nw_id[i], p_sequence_id
                    using errcode = '22023', column = 'id', detail = format('field: id; step: %s', i),
                          hint = 'Give the ids of this sequence''s steps, or none for a new step.';
            end if;
        elsif nw_key[i] is not null then
            v_idx := array_position(ex_key, nw_key[i]);
        end if;
        if v_idx is not null then
            if ex_new[v_idx] is not null then
                raise exception 'step % appears twice in the list', coalesce(nw_key[i], nw_id[i]::text)
                    using errcode = '22023', column = coalesce(case when nw_id[i] is not null then 'id' end, 'key'),
                          detail = format('field: %s; step: %s', case when nw_id[i] is not null then 'id' else 'key' end, i),
                          hint = 'Each step appears once.';
            end if;
            ex_new[v_idx] := i;
            nw_match[i] := v_idx;
        end if;
    end loop;
    -- 3. same text, among keyless steps
    for i in 1 .. v_n loop
        if nw_match[i] is null and nw_id[i] is null and nw_key[i] is null then
            for j in 1 .. cardinality(ex_id) loop
                if ex_new[j] is null and ex_key[j] is null
                   and ex_subject[j] = p_steps -> (i - 1) ->> 'subject'
                   and ex_body[j] = p_steps -> (i - 1) ->> 'html_body' then
                    ex_new[j] := i;
                    nw_match[i] := j;
                    exit;
                end if;
            end loop;
        end if;
    end loop;
    -- ... else the keyless step at the same position: an edit in place
    for i in 1 .. v_n loop
        if nw_match[i] is null and nw_id[i] is null and nw_key[i] is null then
            v_idx := array_position(ex_order, i);
            if v_idx is not null and ex_new[v_idx] is null and ex_key[v_idx] is null then
                ex_new[v_idx] := i;
                nw_match[i] := v_idx;
            end if;
        end if;
    end loop;

    -- The report's "before" side: who had not passed each existing step.
    -- (the enrollments counted by position once, then summed here: Citus plans no correlated
    -- subquery over an unnest)
    select array_agg(h.sent), array_agg(h.n) into v_sent, v_counts
    from (select e.last_step_order_sent as sent, count(*)::integer as n from drip.enrollments e
          where e.sequence_id = p_sequence_id and e.status = 'active'
          group by e.last_step_order_sent) h;
    select coalesce(array_agg((select coalesce(sum(h.n), 0) from unnest(v_sent, v_counts) as h (sent, n)
                                where h.sent < t.o)::integer order by t.j), '{}')
    into ex_pending
    from unnest(ex_order) with ordinality as t (o, j);

    -- Move every step out of the way, then write the list in order.
    update drip.sequence_steps st set step_order = st.step_order + 1000000 where st.sequence_id = p_sequence_id;
    v_rest := v_n;
    for j in 1 .. cardinality(ex_id) loop
        if ex_new[j] is null then
            v_rest := v_rest + 1;
            update drip.sequence_steps st set step_order = v_rest, active = false where st.id = ex_id[j];
        end if;
    end loop;
    for i in 1 .. v_n loop
        v_el := p_steps -> (i - 1);
        begin
            -- a condition given as JSON text is parsed; blank text and null are none
            if jsonb_typeof(v_el -> 'send_if') = 'string' then
                v_el := jsonb_set(v_el, '{send_if}', coalesce(drip.json_text(v_el ->> 'send_if', 'send_if'), 'null'));
            end if;
            if v_el ->> 'wait_for_event' = '' then
                v_el := jsonb_set(v_el, '{wait_for_event}', 'null');
            end if;
            if nw_match[i] is null then
                insert into drip.sequence_steps (sequence_id, step_order, key, delay_hours, subject, html_body, active,
                                                 send_if, wait_for_event, control_weight)
                values (p_sequence_id, i, nw_key[i], coalesce((v_el ->> 'delay_hours')::numeric, 0),
                        v_el ->> 'subject', v_el ->> 'html_body', coalesce((v_el ->> 'active')::boolean, true),
                        nullif(v_el -> 'send_if', 'null'), v_el ->> 'wait_for_event',
                        coalesce((v_el ->> 'control_weight')::integer, 1));
            else
                -- send_if and wait_for_event left out keep their values
                update drip.sequence_steps st
                set step_order = i,
                    key = coalesce(nw_key[i], st.key),
                    delay_hours = coalesce((v_el ->> 'delay_hours')::numeric, st.delay_hours),
                    subject = coalesce(v_el ->> 'subject', st.subject),
                    html_body = coalesce(v_el ->> 'html_body', st.html_body),
                    active = coalesce((v_el ->> 'active')::boolean, true),
                    send_if = case when v_el ? 'send_if' then nullif(v_el -> 'send_if', 'null') else st.send_if end,
                    wait_for_event = case when v_el ? 'wait_for_event' then v_el ->> 'wait_for_event'
                                          else st.wait_for_event end,
                    control_weight = coalesce((v_el ->> 'control_weight')::integer, st.control_weight)
                where st.id = ex_id[nw_match[i]];
            end if;
        exception when others then
            -- the step's own validation names the field; add which step of the list it was
            get stacked diagnostics v_field = column_name, v_state = returned_sqlstate,
                                    v_message = message_text, v_hint = pg_exception_hint,
                                    v_detail = pg_exception_detail;
            if v_state = '22P02' then  -- a delay or active flag that is not a number / boolean
                v_field := case when v_message ~* 'boolean' then 'active' else 'delay_hours' end;
                v_message := case when v_field = 'active' then 'active must be true or false'
                                  else 'delay_hours must be a number of hours (0 or more)' end
                             || ', not ' || coalesce(substring(v_message from '(".*")$'), 'that');
                v_state := '22023';
            end if;
            -- (on Citus an error raised on a worker arrives without its column: its detail names it)
            v_field := coalesce(nullif(v_field, ''), substring(v_detail from 'field: (\w+)'), 'steps');
            raise exception '%', v_message
                using errcode = v_state, column = v_field, detail = format('field: %s; step: %s', v_field, i),
                      hint = coalesce(v_hint, '');
        end;
    end loop;

    -- In-flight enrollments continue after the last step they passed, in the new order.
    update drip.enrollments e
    set last_step_order_sent = m.new_last
    from (
        select e2.id,
               coalesce(
                   (select max(ex_new[j]) from generate_series(1, cardinality(ex_id)) j
                    where ex_new[j] is not null and ex_order[j] <= e2.last_step_order_sent),
                   (select min(ex_new[j]) - 1 from generate_series(1, cardinality(ex_id)) j
                    where ex_new[j] is not null and ex_order[j] > e2.last_step_order_sent),
                   0) as new_last
        from drip.enrollments e2
        where e2.sequence_id = p_sequence_id and e2.status = 'active' and e2.last_step_order_sent > 0
    ) m
    where e.id = m.id and e.last_step_order_sent is distinct from m.new_last;

    update drip.sequences s set updated_at = now() where s.id = p_sequence_id;

    return query
    with after as (
        select st.id, st.key, st.step_order, st.active, st.delay_hours, st.subject, st.html_body, st.send_if,
               st.wait_for_event
        from drip.sequence_steps st where st.sequence_id = p_sequence_id
    ), active_enrollments as (
        select e.last_step_order_sent as last from drip.enrollments e
        where e.sequence_id = p_sequence_id and e.status = 'active'
    )
    select a.id, a.key,
           (case when nw_match[a.step_order] is not null then ex_order[nw_match[a.step_order]] end),
           a.step_order,
           case when nw_match[a.step_order] is null then 'insert'
                when ch.fields = '{}' and ex_order[nw_match[a.step_order]] = a.step_order then 'unchanged'
                when ch.fields = '{}' then 'move'
                when ex_order[nw_match[a.step_order]] = a.step_order then 'update'
                else 'update+move' end,
           ch.fields,
           case when a.active then (select count(*) from active_enrollments x where x.last < a.step_order)::integer
                else 0 end,
           case when nw_match[a.step_order] is null
                then (select count(*) from active_enrollments x where x.last >= a.step_order)::integer else 0 end
    from after a
    cross join lateral (
        select coalesce(array_agg(f.name order by f.n) filter (where f.differs), '{}') as fields
        from (values
            (1, 'delay_hours', nw_match[a.step_order] is not null and ex_delay[nw_match[a.step_order]] <> a.delay_hours),
            (2, 'subject', nw_match[a.step_order] is not null and ex_subject[nw_match[a.step_order]] <> a.subject),
            (3, 'html_body', nw_match[a.step_order] is not null and ex_body[nw_match[a.step_order]] <> a.html_body),
            (4, 'active', nw_match[a.step_order] is not null and ex_active[nw_match[a.step_order]] <> a.active),
            (5, 'send_if', nw_match[a.step_order] is not null
                           and ex_send_if[nw_match[a.step_order]] is distinct from a.send_if),
            (6, 'wait_for_event', nw_match[a.step_order] is not null
                                  and ex_wait[nw_match[a.step_order]] is distinct from a.wait_for_event)
        ) as f (n, name, differs)
    ) ch
    where a.step_order <= v_n
    union all
    select ex_id[j], ex_key[j], ex_order[j], ex_new_order.o, 'deactivate', array['active'], 0, ex_pending[j]
    from generate_series(1, cardinality(ex_id)) j
    cross join lateral (select st.step_order as o from drip.sequence_steps st where st.id = ex_id[j]) ex_new_order
    where ex_new[j] is null and ex_active[j]
    order by 4;
end
$$;
comment on function drip.save_steps(bigint, jsonb) is
    'Replaces a sequence''s step list, keeping step identities and in-flight enrollments'' places.';
