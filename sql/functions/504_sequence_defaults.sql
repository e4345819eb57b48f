-- drip.sequence_defaults() returns jsonb
-- What a new sequence and a new step are when nothing else is said:
-- {"sequence": {name, description, active, trigger_type, ...}, "step": {delay_hours, subject,
-- html_body, active}}, read from the column defaults of drip.sequences and drip.sequence_steps
-- (JSON null where a column has none). One home for them: drip.save_sequence fills a new
-- sequence from it, drip.prefab completes its sequences with it, and the admin pages' blank form
-- and "add step" start from it, so none of them keeps a copy that could disagree.
create or replace function drip.sequence_defaults() returns jsonb
language plpgsql stable
set search_path = ''
as $$
declare
    c_sequence constant text[] := array['name', 'description', 'active', 'trigger_type', 'trigger_value', 'time_zone',
        'send_window_start', 'send_window_end', 'send_days', 'exit_trigger_type', 'exit_trigger_value', 'reentry',
        'entry_condition', 'exit_condition', 'message_class', 'topic_id', 'priority', 'holdout_percent'];
    c_step constant text[] := array['delay_hours', 'subject', 'html_body', 'active', 'send_if', 'wait_for_event',
                                    'control_weight'];
    v_result jsonb := '{"sequence": {}, "step": {}}'::jsonb;
    v_part text;
    v_name text;
    v_expression text;
    v_value jsonb;
begin
    for v_part, v_name, v_expression in
        select case when a.attrelid = 'drip.sequences'::regclass then 'sequence' else 'step' end,
               a.attname::text, pg_catalog.pg_get_expr(d.adbin, d.adrelid)
        from pg_catalog.pg_attribute a
        left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
        where (a.attrelid = 'drip.sequences'::regclass and a.attname = any (c_sequence))
           or (a.attrelid = 'drip.sequence_steps'::regclass and a.attname = any (c_step))
    loop
        v_value := 'null';
        if v_expression is not null then
            -- a column default is a constant expression of the schema's own DDL
            execute 'select pg_catalog.to_jsonb(' || v_expression || ')' into v_value;
        end if;
        v_result := jsonb_set(v_result, array[v_part, v_name], v_value);
    end loop;
    return v_result;
end
$$;
comment on function drip.sequence_defaults() is
    'The column defaults of a new sequence and step, as JSON: {"sequence": {...}, "step": {...}}.';
