-- drip.save_sequence(p_id bigint, p_sequence jsonb, p_steps jsonb default null) returns bigint
-- Creates (p_id NULL) or updates a sequence from JSON, as the admin pages' form sends it: the
-- settings in p_sequence (name, description, active, trigger_type, trigger_value, time_zone,
-- send_window_start, send_window_end, send_days, exit_trigger_type, exit_trigger_value,
-- reentry, entry_condition, exit_condition, message_class, topic_id (or topic, its name), priority,
-- holdout_percent;
-- values may be strings, an empty string is NULL, a condition may be given as JSON text; a key
-- left out keeps its value, or
-- the default for a new sequence, drip.sequence_defaults()), then the steps through
-- drip.save_steps when p_steps is given. A name is kept without surrounding blanks. An update
-- that changes nothing writes nothing.
-- A value that is not of its column's type is refused naming that column (22023), like every
-- other rule of drip.sequences. Returns the sequence id.
create or replace function drip.save_sequence(p_id bigint, p_sequence jsonb, p_steps jsonb default null)
returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    c_keys constant text[] := array['name', 'description', 'active', 'trigger_type', 'trigger_value', 'time_zone',
        'send_window_start', 'send_window_end', 'send_days', 'exit_trigger_type', 'exit_trigger_value', 'reentry',
        'entry_condition', 'exit_condition', 'message_class', 'topic_id', 'topic', 'priority', 'holdout_percent'];
    v_clean jsonb := '{}'::jsonb;
    v_key text;
    v_value jsonb;
    v_row drip.sequences;
    v_old drip.sequences;
    v_id bigint;
begin
    if p_sequence is null or jsonb_typeof(p_sequence) <> 'object' then
        raise exception 'the sequence must be a JSON object'
            using errcode = '22023', column = 'sequence', detail = 'field: sequence',
                  hint = 'Pass {"name": "...", "trigger_type": "...", ...}.';
    end if;
    for v_key, v_value in select * from jsonb_each(p_sequence) loop
        if not v_key = any (c_keys) then
            raise exception 'unknown sequence field: %', left(v_key, 60)
                using errcode = '22023', column = 'sequence', detail = 'field: sequence',
                      hint = 'A sequence has ' || array_to_string(c_keys, ', ') || '.';
        end if;
        if v_value = '""' and v_key <> 'name' then
            v_value := 'null';
        elsif v_key = 'name' and jsonb_typeof(v_value) = 'string' then
            v_value := to_jsonb(btrim(v_value #>> '{}'));
        elsif v_key in ('entry_condition', 'exit_condition') and jsonb_typeof(v_value) = 'string' then
            v_value := drip.json_text(v_value #>> '{}', v_key);
        elsif v_key = 'topic' then
            -- a topic by its name (case-insensitive), as a sequences file gives it
            v_key := 'topic_id';
            if v_value <> 'null' then
                v_value := (select to_jsonb(t.id) from drip.topics t where lower(t.name) = lower(v_value #>> '{}'));
                if v_value is null then
                    raise exception 'topic % does not exist', left(p_sequence ->> 'topic', 60)
                        using errcode = '23503', column = 'topic', detail = 'field: topic',
                              hint = 'Create it first: pgdrip topics add NAME (or insert into drip.topics).';
                end if;
            end if;
        end if;
        begin
            perform jsonb_populate_record(null::drip.sequences, jsonb_build_object(v_key, v_value));
        exception when data_exception then
            raise exception '% must be %, not %', v_key,
                    case when v_key = 'active' then 'true or false'
                         when v_key like 'send_window_%' then 'a time of day like 09:00'
                         when v_key = 'send_days' then 'a list of ISO weekdays, 1 (Monday) to 7 (Sunday)'
                         when v_key in ('priority', 'topic_id') then 'a whole number'
                         when v_key = 'holdout_percent' then 'a number from 0 to 50'
                         else 'text' end,
                    left(v_value::text, 60)
                using errcode = '22023', column = v_key, detail = 'field: ' || v_key;
        end;
        v_clean := v_clean || jsonb_build_object(v_key, v_value);
    end loop;

    if p_id is null then
        v_row := jsonb_populate_record(null::drip.sequences, (drip.sequence_defaults() -> 'sequence') || v_clean);
        insert into drip.sequences (name, description, active, trigger_type, trigger_value, time_zone,
                                    send_window_start, send_window_end, send_days, exit_trigger_type,
                                    exit_trigger_value, reentry, entry_condition, exit_condition, message_class,
                                    topic_id, priority, holdout_percent)
        values (v_row.name, v_row.description, v_row.active, v_row.trigger_type, v_row.trigger_value,
                v_row.time_zone, v_row.send_window_start, v_row.send_window_end, v_row.send_days,
                v_row.exit_trigger_type, v_row.exit_trigger_value, v_row.reentry, v_row.entry_condition,
                v_row.exit_condition, v_row.message_class, v_row.topic_id, v_row.priority, v_row.holdout_percent)
        returning id into v_id;
    else
        select * into v_row from drip.sequences s where s.id = p_id for update;
        if not found then
            raise exception 'sequence % does not exist', p_id
                using errcode = 'P0002', column = 'p_id', detail = 'field: p_id',
                      hint = 'List sequences with: pgdrip sequences list';
        end if;
        v_old := v_row;
        v_row := jsonb_populate_record(v_row, v_clean);
        update drip.sequences s
        set name = v_row.name, description = v_row.description, active = v_row.active,
            trigger_type = v_row.trigger_type, trigger_value = v_row.trigger_value, time_zone = v_row.time_zone,
            send_window_start = v_row.send_window_start, send_window_end = v_row.send_window_end,
            send_days = v_row.send_days, exit_trigger_type = v_row.exit_trigger_type,
            exit_trigger_value = v_row.exit_trigger_value, reentry = v_row.reentry,
            entry_condition = v_row.entry_condition, exit_condition = v_row.exit_condition,
            message_class = v_row.message_class, topic_id = v_row.topic_id, priority = v_row.priority,
            holdout_percent = v_row.holdout_percent
        where s.id = p_id and v_row is distinct from v_old;
        v_id := p_id;
    end if;
    if p_steps is not null then
        perform drip.save_steps(v_id, p_steps);
    end if;
    return v_id;
end
$$;

-- drip.duplicate_sequence(p_id bigint, p_name text default null) returns bigint
-- A copy of a sequence with its settings and active steps, inactive (so it enrolls nobody until
-- someone looks at it), named "Copy of ..." unless p_name is given. Returns the new id.
create or replace function drip.duplicate_sequence(p_id bigint, p_name text default null) returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    v_id bigint;
begin
    insert into drip.sequences (name, description, active, trigger_type, trigger_value, time_zone,
                                send_window_start, send_window_end, send_days, exit_trigger_type,
                                exit_trigger_value, reentry, entry_condition, exit_condition, message_class, topic_id,
                                priority, holdout_percent)
    select coalesce(p_name, left('Copy of ' || s.name, 200)), s.description, false, s.trigger_type, s.trigger_value,
           s.time_zone, s.send_window_start, s.send_window_end, s.send_days, s.exit_trigger_type,
           s.exit_trigger_value, s.reentry, s.entry_condition, s.exit_condition, s.message_class, s.topic_id,
           s.priority, s.holdout_percent
    from drip.sequences s where s.id = p_id
    returning id into v_id;
    if v_id is null then
        raise exception 'sequence % does not exist', coalesce(p_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_id', detail = 'field: p_id',
                  hint = 'List sequences with: pgdrip sequences list';
    end if;
    insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body, key, send_if,
                                     wait_for_event)
    select v_id, row_number() over (order by st.step_order), st.delay_hours, st.subject, st.html_body, st.key,
           st.send_if, st.wait_for_event
    from drip.sequence_steps st where st.sequence_id = p_id and st.active;
    return v_id;
end
$$;

-- drip.set_step_active(p_id bigint, p_active boolean) returns boolean
-- Turns one step on or off (an inactive step is skipped; enrollments keep their place); true if
-- that changed it. An unknown id is an error.
create or replace function drip.set_step_active(p_id bigint, p_active boolean) returns boolean
language plpgsql volatile
set search_path = ''
as $$
begin
    if p_active is null then
        raise exception 'active must be true or false'
            using errcode = '22023', column = 'active', detail = 'field: active';
    end if;
    update drip.sequence_steps st set active = p_active where st.id = p_id and st.active <> p_active;
    if found then
        return true;
    end if;
    if not exists (select 1 from drip.sequence_steps st where st.id = p_id) then
        raise exception 'step % does not exist', coalesce(p_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_id', detail = 'field: p_id',
                  hint = 'See the steps with: pgdrip sequences show SEQUENCE_ID';
    end if;
    return false;
end
$$;

-- drip.set_sequence_active(p_id bigint, p_active boolean) returns boolean
-- Turns a sequence on or off (an inactive one enrolls nobody and sends nothing); true if that
-- changed it. An unknown id is an error.
create or replace function drip.set_sequence_active(p_id bigint, p_active boolean) returns boolean
language plpgsql volatile
set search_path = ''
as $$
begin
    if p_active is null then
        raise exception 'active must be true or false'
            using errcode = '22023', column = 'active', detail = 'field: active';
    end if;
    update drip.sequences s set active = p_active where s.id = p_id and s.active <> p_active;
    if found then
        return true;
    end if;
    if not exists (select 1 from drip.sequences s where s.id = p_id) then
        raise exception 'sequence % does not exist', coalesce(p_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_id', detail = 'field: p_id',
                  hint = 'List sequences with: pgdrip sequences list';
    end if;
    return false;
end
$$;
