-- drip.create_sequence_from_prefab(p_prefab text, p_name text default null, p_trigger_value text default null) returns bigint
-- Creates a ready-made sequence (drip.prefab): birthday, welcome (0h, 24h, +6 days) or
-- post_purchase (0h, +3 days). Returns the new sequence id.
create or replace function drip.create_sequence_from_prefab(
    p_prefab text, p_name text default null, p_trigger_value text default null
) returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    v_prefab jsonb := drip.prefab(p_prefab);
    v_id bigint;
begin
    insert into drip.sequences (name, description, trigger_type, trigger_value)
    values (coalesce(p_name, v_prefab #>> '{sequence,name}'), v_prefab #>> '{sequence,description}',
            v_prefab #>> '{sequence,trigger_type}', coalesce(p_trigger_value, v_prefab #>> '{sequence,trigger_value}'))
    returning id into v_id;
    insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body)
    select v_id, t.n, (t.step ->> 'delay_hours')::numeric, t.step ->> 'subject', t.step ->> 'html_body'
    from jsonb_array_elements(v_prefab -> 'steps') with ordinality as t (step, n);
    return v_id;
end
$$;
