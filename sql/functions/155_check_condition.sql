-- drip.check_condition(p_condition jsonb, p_column text, p_in_enrollment boolean default true) returns text[]
-- The one validator of the condition language (contract: Conditions), called by the sequences and
-- steps triggers, so the admin form, `pgdrip apply` and SQL refuse exactly the same things. A
-- NULL condition is none. Anything else must be a condition; `clicked` only where there is an
-- enrollment (p_in_enrollment: send_if and exit_condition, not entry_condition). Refuses with
-- SQLSTATE 22023 naming p_column (COLUMN and DETAIL) and where in the JSON it went wrong.
-- Returns what the condition reads ('tag', 'group', 'attribute', 'event', 'purchased',
-- 'clicked'), so writes to anything else never evaluate it (sequences.entry_sources, exit_sources).

-- drip.condition_error(p_column text, p_path text, p_problem text, p_hint text) returns void
-- Raises the error check_condition reports.
create or replace function drip.condition_error(p_column text, p_path text, p_problem text, p_hint text)
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    raise exception '%: % at %', p_column, p_problem, p_path
        using errcode = '22023', column = p_column, detail = 'field: ' || p_column,
              hint = coalesce(p_hint, 'A condition is one of {"tag": NAME}, {"group": ID}, {"attribute": NAME, '
                     || '"equals"|"in"|"exists"|"gt"|"gte"|"lt"|"lte": ...}, {"event": NAME, "within_hours": N}, '
                     || '{"purchased": PRODUCT|true}, {"clicked": true|STEP_ORDER}, {"all": [...]}, {"any": [...]}, '
                     || '{"not": {...}}.');
end
$$;

-- drip.check_condition_node(p_node jsonb, p_column text, p_in_enrollment boolean, p_path text, p_depth integer) returns text[]
-- One node of a condition, and the nodes under it.
create or replace function drip.check_condition_node(
    p_node jsonb, p_column text, p_in_enrollment boolean, p_path text, p_depth integer
) returns text[]
language plpgsql immutable
set search_path = ''
as $$
declare
    v_keys text[];
    v_kinds text[];
    v_kind text;
    v_ops text[];
    v_sources text[] := '{}'::text[];
    v_item jsonb;
    v_i integer := 0;
begin
    if p_depth > 10 then
        perform drip.condition_error(p_column, p_path, 'conditions nest at most 10 deep', null);
    end if;
    if p_node is null or jsonb_typeof(p_node) <> 'object' then
        perform drip.condition_error(p_column, p_path, 'a condition must be a JSON object, not '
                                     || coalesce(left(p_node::text, 60), 'null'), null);
    end if;
    select array_agg(k order by k) into v_keys from jsonb_object_keys(p_node) k;
    select array_agg(k order by k) into v_kinds
    from unnest(v_keys) k
    where k in ('tag', 'group', 'attribute', 'event', 'purchased', 'clicked', 'all', 'any', 'not');
    if cardinality(v_kinds) is distinct from 1 then
        perform drip.condition_error(p_column, p_path,
            case when v_kinds is null then format('no condition in %s', left(p_node::text, 60))
                 else format('one condition per object, not %s', array_to_string(v_kinds, ' and ')) end, null);
    end if;
    v_kind := v_kinds[1];
    -- what may stand beside the kind's own key
    v_ops := case v_kind when 'attribute' then array['equals', 'in', 'exists', 'gt', 'gte', 'lt', 'lte']
                         when 'event' then array['within_hours'] else '{}' end;
    if exists (select from unnest(v_keys) k where k <> v_kind and k <> all (v_ops)) then
        perform drip.condition_error(p_column, p_path, format('unknown key %s beside %s',
            (select string_agg(quote_ident(k), ', ') from unnest(v_keys) k where k <> v_kind and k <> all (v_ops)),
            quote_ident(v_kind)), null);
    end if;

    if v_kind in ('all', 'any') then
        if jsonb_typeof(p_node -> v_kind) <> 'array' or jsonb_array_length(p_node -> v_kind) = 0 then
            perform drip.condition_error(p_column, p_path || '.' || v_kind,
                format('"%s" needs a non-empty list of conditions', v_kind), null);
        end if;
        if jsonb_array_length(p_node -> v_kind) > 100 then
            perform drip.condition_error(p_column, p_path || '.' || v_kind,
                format('"%s" takes at most 100 conditions', v_kind), null);
        end if;
        for v_item in select x from jsonb_array_elements(p_node -> v_kind) x loop
            v_sources := v_sources || drip.check_condition_node(v_item, p_column, p_in_enrollment,
                                                                  format('%s.%s[%s]', p_path, v_kind, v_i), p_depth + 1);
            v_i := v_i + 1;
        end loop;
    elsif v_kind = 'not' then
        v_sources := drip.check_condition_node(p_node -> 'not', p_column, p_in_enrollment, p_path || '.not', p_depth + 1);
    elsif v_kind = 'group' then
        if jsonb_typeof(p_node -> 'group') <> 'number' or (p_node ->> 'group') !~ '^[0-9]{1,18}$' then
            perform drip.condition_error(p_column, p_path || '.group', 'a group is given by its id, a whole number',
                                         'For example {"group": 42}.');
        end if;
        v_sources := array['group'];
    elsif v_kind = 'clicked' then
        if not p_in_enrollment then
            perform drip.condition_error(p_column, p_path || '.clicked',
                '"clicked" needs an enrollment, which an entry condition does not have',
                'Use "clicked" in send_if or exit_condition; an entry condition may use tag, group, attribute, event and purchased.');
        end if;
        if not (p_node -> 'clicked' = 'true'::jsonb
                or jsonb_typeof(p_node -> 'clicked') = 'number' and (p_node ->> 'clicked') ~ '^[0-9]{1,9}$'
                   and (p_node ->> 'clicked')::integer > 0) then
            perform drip.condition_error(p_column, p_path || '.clicked', 'clicked is true or a step order (1 or more)',
                                         'For example {"clicked": true} or {"clicked": 2}.');
        end if;
        v_sources := array['clicked'];
    elsif v_kind = 'purchased' then
        if not (p_node -> 'purchased' = 'true'::jsonb or drip.is_condition_name(p_node -> 'purchased')) then
            perform drip.condition_error(p_column, p_path || '.purchased', 'purchased is true or a product id',
                                         'For example {"purchased": true} or {"purchased": "pro-plan"}.');
        end if;
        v_sources := array['purchased'];
    else
        -- tag, attribute and event name something
        if not drip.is_condition_name(p_node -> v_kind) then
            perform drip.condition_error(p_column, p_path || '.' || v_kind,
                format('%s must be a name (1 to 200 characters, no control characters)', v_kind), null);
        end if;
        v_sources := array[v_kind];
        if v_kind = 'attribute' then
            select array_agg(k) into v_ops from unnest(v_keys) k where k <> 'attribute';
            if cardinality(v_ops) is distinct from 1 then
                perform drip.condition_error(p_column, p_path,
                    'an attribute condition needs exactly one of equals, in, exists, gt, gte, lt, lte',
                    'For example {"attribute": "plan", "equals": "pro"}.');
            end if;
            if v_ops[1] = 'in' and (jsonb_typeof(p_node -> 'in') <> 'array' or jsonb_array_length(p_node -> 'in') = 0) then
                perform drip.condition_error(p_column, p_path || '.in', '"in" needs a non-empty list of values',
                                             'For example {"attribute": "plan", "in": ["pro", "team"]}.');
            elsif v_ops[1] = 'exists' and jsonb_typeof(p_node -> 'exists') <> 'boolean' then
                perform drip.condition_error(p_column, p_path || '.exists', '"exists" is true or false', null);
            elsif v_ops[1] in ('gt', 'gte', 'lt', 'lte') and jsonb_typeof(p_node -> v_ops[1]) <> 'number' then
                perform drip.condition_error(p_column, p_path || '.' || v_ops[1],
                    format('"%s" compares with a number', v_ops[1]), 'For example {"attribute": "seats", "gte": 10}.');
            end if;
        elsif v_kind = 'event' and p_node ? 'within_hours' then
            if jsonb_typeof(p_node -> 'within_hours') <> 'number' or (p_node ->> 'within_hours')::numeric <= 0
               or (p_node ->> 'within_hours')::numeric > 876000 then
                perform drip.condition_error(p_column, p_path || '.within_hours',
                    'within_hours is a number of hours, more than 0', 'For example {"event": "login", "within_hours": 72}.');
            end if;
        end if;
    end if;
    return v_sources;
end
$$;

-- drip.is_condition_name(p_value jsonb) returns boolean
-- A name in a condition: a JSON string of 1 to 200 characters without control characters.
create or replace function drip.is_condition_name(p_value jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
    select coalesce(jsonb_typeof(p_value) = 'string' and btrim(p_value #>> '{}') <> ''
                    and length(p_value #>> '{}') <= 200 and (p_value #>> '{}') !~ '[[:cntrl:]]', false)
$$;

create or replace function drip.check_condition(p_condition jsonb, p_column text, p_in_enrollment boolean default true)
returns text[]
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_condition is null or p_condition = 'null'::jsonb then
        return null;
    end if;
    if length(p_condition::text) > 100000 then
        perform drip.condition_error(p_column, '$', 'a condition is at most 100000 characters', null);
    end if;
    return (select array_agg(distinct s order by s)
            from unnest(drip.check_condition_node(p_condition, p_column, p_in_enrollment, '$', 1)) s);
end
$$;
comment on function drip.check_condition(jsonb, text, boolean) is
    'Refuses a malformed condition naming the column; returns what it reads (tag, group, attribute, event, purchased, clicked).';
