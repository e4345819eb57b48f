-- drip.condition_sql(p_condition jsonb, p_in_enrollment boolean) returns text
-- The one compiler of the condition language: a checked condition (drip.check_condition) becomes
-- a SQL predicate that is true or false, never NULL, over the contact `c` (drip.contacts: id,
-- attributes) and, when p_in_enrollment (send_if and exit_condition), the enrollment `e`
-- (drip.enrollments: id, sequence_id, enrolled_at, event_key). Placeholders: {now} for the moment it is judged at, and
-- {contact_tags}, {group_members}, {purchases}, {events}, {clicks}, {tags}, {sequence_steps} for
-- the tables (drip.condition_predicate fills them in, with a shard's tables on Citus). Callers run
-- it over a whole set of rows in one statement: dispatch over a batch, a write over the contacts
-- its statement touched. Every value is quoted as a literal (format %L): the JSON cannot inject SQL.
create or replace function drip.condition_sql(p_condition jsonb, p_in_enrollment boolean) returns text
language plpgsql immutable
set search_path = ''
as $$
declare
    v_kind text;
    v_name text;
    v_op text;
    v_value jsonb;
    v_sql text;
begin
    select k into v_kind from jsonb_object_keys(p_condition) k
    where k in ('tag', 'group', 'attribute', 'event', 'purchased', 'clicked', 'all', 'any', 'not');
    if v_kind in ('all', 'any') then
        return '(' || (select string_agg(drip.condition_sql(x, p_in_enrollment), case v_kind when 'all' then ' and ' else ' or ' end)
                       from jsonb_array_elements(p_condition -> v_kind) x) || ')';
    elsif v_kind = 'not' then
        return '(not ' || drip.condition_sql(p_condition -> 'not', p_in_enrollment) || ')';
    end if;
    v_name := p_condition ->> v_kind;
    if v_kind = 'tag' then
        return format('exists (select from {contact_tags} ct join {tags} t on t.id = ct.tag_id '
                      'where ct.contact_id = c.id and lower(t.name) = lower(%L))', v_name);
    elsif v_kind = 'group' then
        return format('exists (select from {group_members} gm where gm.group_id = %s and gm.contact_id = c.id)',
                      (p_condition ->> 'group')::bigint);
    elsif v_kind = 'purchased' then
        return 'exists (select from {purchases} pu where pu.contact_id = c.id and pu.status = ''confirmed'''
               || case when p_condition -> 'purchased' = 'true'::jsonb then ''
                       else format(' and pu.product_id = %L', v_name) end || ')';
    elsif v_kind = 'clicked' then
        -- a person's click on a tracked link (not the honeypot) in this enrollment's mail
        return 'exists (select from {clicks} k where k.contact_id = c.id and k.enrollment_id = e.id '
               || 'and k.bot_reason is null and k.link_no > 0'
               || case when p_condition -> 'clicked' = 'true'::jsonb then ''
                       else format(' and k.step_id in (select st.id from {sequence_steps} st '
                                   'where st.sequence_id = e.sequence_id and st.step_order = %s)',
                                   (p_condition ->> 'clicked')::integer) end || ')';
    elsif v_kind = 'event' then
        -- inside an enrollment only its own events count: since it began, with its key or none
        return format('exists (select from {events} ev where ev.contact_id = c.id and lower(ev.name) = lower(%L)', v_name)
               || case when p_condition ? 'within_hours'
                       then format(' and ev.occurred_at > {now} - %s * interval ''1 hour'' and ev.occurred_at <= {now}',
                                   (p_condition ->> 'within_hours')::numeric) else '' end
               || case when p_in_enrollment
                       then ' and ev.occurred_at >= e.enrolled_at'
                            || ' and (e.event_key is null or ev.key is null or ev.key = e.event_key)' else '' end
               || ')';
    end if;
    -- an attribute
    select k into v_op from jsonb_object_keys(p_condition) k where k <> 'attribute';
    v_value := p_condition -> v_op;
    v_sql := case v_op
        when 'equals' then format('c.attributes -> %L = %L::jsonb', v_name, v_value)
        when 'in' then format('c.attributes -> %L = any (array[%s])', v_name,
                              (select string_agg(format('%L::jsonb', x), ', ') from jsonb_array_elements(v_value) x))
        when 'exists' then format('%s coalesce(jsonb_typeof(c.attributes -> %L) <> ''null'', false)',
                                  case when v_value = 'true'::jsonb then '' else 'not' end, v_name)
        else format('case when jsonb_typeof(c.attributes -> %L) = ''number'' then (c.attributes ->> %L)::numeric %s %s end',
                    v_name, v_name, case v_op when 'gt' then '>' when 'gte' then '>=' when 'lt' then '<' else '<=' end,
                    (v_value #>> '{}')::numeric)
        end;
    return 'coalesce(' || v_sql || ', false)';
end
$$;
comment on function drip.condition_sql(jsonb, boolean) is
    'Compiles a checked condition into a SQL predicate over contact c (and enrollment e), with placeholders for tables and {now}.';

-- drip.condition_predicate(p_condition jsonb, p_in_enrollment boolean, p_now text, p_near regclass default null) returns text
-- drip.condition_sql with its placeholders filled: the tables next to p_near (drip.local_table:
-- a shard's on Citus, else drip.<table>) and p_now, the SQL for the moment of judgement (a
-- parameter such as '$2', or 'now()').
create or replace function drip.condition_predicate(
    p_condition jsonb, p_in_enrollment boolean, p_now text, p_near regclass default null
)
returns text
language plpgsql stable
set search_path = ''
as $$
declare
    v_sql text := drip.condition_sql(p_condition, p_in_enrollment);
    v_table text;
begin
    foreach v_table in array array['contact_tags', 'group_members', 'purchases', 'events', 'clicks', 'tags',
                                   'sequence_steps'] loop
        if strpos(v_sql, '{' || v_table || '}') > 0 then
            v_sql := replace(v_sql, '{' || v_table || '}', drip.local_table(p_near, v_table));
        end if;
    end loop;
    return replace(v_sql, '{now}', p_now);
end
$$;
