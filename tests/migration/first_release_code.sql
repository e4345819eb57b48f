-- The first release's functions, triggers and grants (commit 3ceaf0c), as `pgdrip migrate` applied
-- them after migrations/0001: tests/migration/test_upgrade.py upgrades a database built from this.

-- sql/functions/100_html_escape.sql
-- drip.html_escape(p_text text) returns text
-- Escapes the five HTML-special characters, so a merge value is text, never markup.
-- No SET clause so that it inlines into the dispatcher; every name is qualified instead.
create or replace function drip.html_escape(p_text text) returns text
language sql immutable parallel safe
return pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(p_text,
    '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;');

-- sql/functions/105_merge_value.sql
-- drip.merge_value(p_value text, p_html boolean) returns text
-- A contact's value as it goes into a message: trimmed (NULL when empty, so a fallback applies),
-- '{{' broken up so it is never read as a tag; HTML-escaped for a body, and for a subject every
-- line break or tab turned into a space. Inlinable: no SET clause, every name qualified.
create or replace function drip.merge_value(p_value text, p_html boolean) returns text
language sql immutable parallel safe
return case when p_html
    then drip.html_escape(pg_catalog.replace(nullif(pg_catalog.btrim(p_value), ''), '{{', '{ {'))
    else pg_catalog.translate(pg_catalog.replace(nullif(pg_catalog.btrim(p_value), ''), '{{', '{ {'),
                              E'\r\n\t\x0b\x0c\u2028\u2029', '       ') end;

-- sql/functions/108_render_template.sql
-- drip.render_template(p_template text, p_forms text[], p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Puts a contact's values into a template whose tags p_forms describes (drip.merge_forms): per
-- tag, nothing to do, a plain replace() of its one written form (the value, else its fallback),
-- or, when a template writes one tag several ways, the regular expression. Three nested stages
-- (FirstName, LastName, Email), each evaluated once. No SET clause, so the planner inlines it
-- into the dispatcher's query; a SQL-standard body binds every name when it is created.
create or replace function drip.render_template(
    p_template text, p_forms text[], p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
return case when p_forms[5] OPERATOR(pg_catalog.=) '' then (case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[5] is not null
            then pg_catalog.replace((case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[5], coalesce(drip.merge_value(p_email, p_html), p_forms[6], ''))
        else pg_catalog.regexp_replace((case when p_forms[3] OPERATOR(pg_catalog.=) '' then (case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end)
        when p_forms[3] is not null
            then pg_catalog.replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), p_forms[3], coalesce(drip.merge_value(p_last_name, p_html), p_forms[4], ''))
        else pg_catalog.regexp_replace((case when p_forms[1] OPERATOR(pg_catalog.=) '' then p_template
        when p_forms[1] is not null
            then pg_catalog.replace(p_template, p_forms[1], coalesce(drip.merge_value(p_first_name, p_html), p_forms[2], ''))
        else pg_catalog.regexp_replace(p_template, '\{\{\s*FirstName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_first_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*LastName\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_last_name, p_html), '\', '\\'), '\1'), 'gi') end), '\{\{\s*Email\s*(?:\|\s*([^}]*?)\s*)?\}\}',
             coalesce(pg_catalog.replace(drip.merge_value(p_email, p_html), '\', '\\'), '\1'), 'gi') end;

-- sql/functions/110_render_merge.sql
-- drip.render_merge(p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean) returns text
-- Renders any template (its tag usage worked out on the spot); the dispatcher uses the usage
-- stored with each step instead. HTML-escapes values when p_html.
create or replace function drip.render_merge(
    p_template text, p_first_name text, p_last_name text, p_email text, p_html boolean
) returns text
language sql immutable parallel safe
return drip.render_template(p_template, drip.merge_forms(p_template), p_first_name, p_last_name, p_email, p_html);

-- sql/functions/120_render_subject.sql
-- drip.render_subject(p_template text, p_first_name text, p_last_name text, p_email text) returns text
-- Renders a subject: values unescaped, line breaks in values turned into spaces (the template
-- itself is refused with any at save), so a subject can never carry a second header.
create or replace function drip.render_subject(
    p_template text, p_first_name text, p_last_name text, p_email text
) returns text
language sql immutable parallel safe
return pg_catalog.btrim(drip.render_merge(p_template, p_first_name, p_last_name, p_email, false));

-- sql/functions/130_check_merge_tags.sql
-- drip.check_merge_tags(p_text text, p_field text) returns void
-- Refuses text whose {{...}} placeholders are not FirstName, LastName or Email.
create or replace function drip.check_merge_tags(p_text text, p_field text) returns void
language plpgsql immutable
set search_path = ''
as $$
declare
    v_tag text;
begin
    for v_tag in
        select m[1] from regexp_matches(p_text, '\{\{([^}]*)\}\}', 'g') as m
    loop
        if v_tag !~* '^\s*(FirstName|LastName|Email)\s*(\|[^{}]*)?$' then
            raise exception 'unknown merge tag {{%}} in %', left(v_tag, 60), p_field
                using errcode = '22023', column = p_field,
                      detail = format('field: %s', p_field),
                      hint = 'Use {{FirstName}}, {{LastName}} or {{Email}}, optionally with a fallback: {{FirstName|there}}.';
        end if;
    end loop;
    if regexp_replace(p_text, '\{\{[^}]*\}\}', '', 'g') ~ '\{\{|\}\}' then
        raise exception 'unbalanced merge tag braces in %', p_field
            using errcode = '22023', column = p_field,
                  detail = format('field: %s', p_field),
                  hint = 'Write merge tags as {{FirstName}}; close every {{ with }}.';
    end if;
end
$$;

-- sql/functions/140_check_email.sql
-- drip.check_email(p_email text, p_field text default 'email') returns void
-- Refuses an address that is not a plain addr-spec (no display name, spaces, or controls).
create or replace function drip.check_email(p_email text, p_field text default 'email') returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_email is null
       or length(p_email) > 254
       or p_email !~ '^[^@[:space:][:cntrl:]<>(),;:"\[\]\\]+@[^@[:space:][:cntrl:]<>(),;:"\[\]\\.]+(\.[^@[:space:][:cntrl:]<>(),;:"\[\]\\.]+)+$'
    then
        raise exception 'malformed email address: %', coalesce(quote_literal(left(p_email, 80)), 'NULL')
            using errcode = '22023', column = p_field,
                  detail = format('field: %s', p_field),
                  hint = 'Give a plain address such as ada@example.com (at most 254 characters).';
    end if;
end
$$;

-- sql/functions/150_check_trigger.sql
-- drip.check_trigger(p_trigger_type text, p_trigger_value text) returns void
-- Refuses an unknown trigger type or a trigger value that type cannot match.
create or replace function drip.check_trigger(p_trigger_type text, p_trigger_value text) returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_trigger_type is null or p_trigger_type not in
        ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click') then
        raise exception 'unknown trigger type: %', coalesce(quote_literal(left(p_trigger_type, 60)), 'NULL')
            using errcode = '22023', column = 'trigger_type', detail = 'field: trigger_type',
                  hint = 'Use tag_added, group_added, anniversary, after_purchase or after_first_click.';
    end if;
    if p_trigger_type = 'anniversary' and (p_trigger_value is null or p_trigger_value not in ('birthday', 'created')) then
        raise exception 'anniversary trigger value must be birthday or created, not %',
                coalesce(quote_literal(left(p_trigger_value, 60)), 'NULL')
            using errcode = '22023', column = 'trigger_value', detail = 'field: trigger_value',
                  hint = 'Set trigger_value to ''birthday'' (contacts.birthday) or ''created'' (contacts.created_at).';
    end if;
    if p_trigger_type in ('group_added', 'after_first_click') and p_trigger_value !~ '^[0-9]{1,18}$' then
        raise exception '% trigger value must be a % id, not %', p_trigger_type,
                case p_trigger_type when 'group_added' then 'group' else 'mailing' end,
                quote_literal(left(p_trigger_value, 60))
            using errcode = '22023', column = 'trigger_value', detail = 'field: trigger_value',
                  hint = 'Give the id as digits, such as ''42'', or NULL to match any.';
    end if;
    if p_trigger_type in ('tag_added', 'after_purchase')
       and (btrim(p_trigger_value) = '' or p_trigger_value ~ '[[:cntrl:]]' or length(p_trigger_value) > 200) then
        raise exception 'malformed % trigger value: %', p_trigger_type, quote_literal(left(p_trigger_value, 60))
            using errcode = '22023', column = 'trigger_value', detail = 'field: trigger_value',
                  hint = 'Give a non-empty name without control characters (at most 200), or NULL to match any.';
    end if;
end
$$;

-- sql/functions/160_require_rows.sql
-- drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
-- The foreign-key check of contact_tags and group_members, done once per statement: locks the
-- referenced rows FOR KEY SHARE, as a foreign key does (a concurrent delete waits, or has
-- already happened and the check fails), and refuses the statement if any id is missing.
-- p_ids must be distinct: the count of rows locked is compared with its length.
create or replace function drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
language plpgsql volatile
set search_path = ''
as $$
declare
    v_locked bigint;
    v_missing bigint;
begin
    if p_table is null or p_table not in ('contacts', 'tags', 'groups') then
        raise exception 'require_rows checks contacts, tags or groups, not %', coalesce(p_table, 'NULL')
            using errcode = '22023', column = 'p_table', detail = 'field: p_table';
    end if;
    if p_table = 'contacts' then
        select count(*) into v_locked from (select from drip.contacts r where r.id = any (p_ids) for key share) l;
    elsif p_table = 'tags' then
        select count(*) into v_locked from (select from drip.tags r where r.id = any (p_ids) for key share) l;
    else
        select count(*) into v_locked from (select from drip.groups r where r.id = any (p_ids) for key share) l;
    end if;
    if v_locked = coalesce(cardinality(p_ids), 0) then
        return;
    end if;
    -- the slow path, only to name the first missing id
    execute format('select i from unnest($1) i where not exists (select from drip.%I r where r.id = i) limit 1',
                   p_table)
        into v_missing using p_ids;
    raise exception '% % does not exist', rtrim(p_table, 's'), v_missing
        using errcode = '23503', column = p_field, detail = format('field: %s', p_field),
              hint = format('Insert the row into drip.%s first.', p_table);
end
$$;

-- sql/functions/200_enroll_events.sql
-- drip.enroll_events(p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null) returns integer
-- Set-based heart of enrollment: every (contact, value) event enrolls the subscribed contact into
-- each active sequence of that type whose value is NULL or matches. Returns new enrollments.
-- Fast path: one plain INSERT of the pairs not already enrolled (ON CONFLICT's speculative
-- insertion cost 27 % more in bulk). If a concurrent writer enrolled one of the pairs first,
-- the unique index refuses it and the same statement is run with ON CONFLICT DO NOTHING.

-- Replaced by the query below; dropped when upgrading from the first release.
drop function if exists drip.enrollment_candidates(text, bigint[], text[]);

create or replace function drip.enroll_events(
    p_trigger_type text, p_contact_ids bigint[], p_values text[], p_occurrence date default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
-- bulk events (100k tags in one INSERT) sort and hash in memory rather than on disk
set work_mem = '64MB'
set jit = off
-- Key lookups only: a sequential scan of enrollments inside a nested loop grows with every row
-- this statement inserts (quadratic when the statistics say the table is empty).
set enable_seqscan = off
as $$
declare
    -- the few sequences this event type starts, in id order, with the delay of their first active step
    v_sequence_ids bigint[];
    v_sequence_values text[];
    v_first_delays numeric[];
    v_count integer;
    -- $1 events' contacts, $2 their values, $3 occurrence, $4..$6 the sequences, $7 the trigger type,
    -- %s the conflict clause
    v_insert constant text := $sql$
        insert into drip.enrollments (sequence_id, contact_id, next_step_due_at, occurrence)
        select distinct on (s.id, ev.contact_id)
               s.id, ev.contact_id, now() + s.first_delay * interval '1 hour', $3
        from (select ev.contact_id, ev.value
              from unnest($1, $2) as ev (contact_id, value)
              join drip.contacts c on c.id = ev.contact_id and c.unsubscribed_at is null
              offset 0) ev  -- each contact looked up once, whatever the number of sequences
        join unnest($4, $5, $6) as s (id, trigger_value, first_delay)
          on s.trigger_value is null
             or case when $7 = 'tag_added' then lower(s.trigger_value) = lower(ev.value)
                     else s.trigger_value = ev.value end
        where not exists (select from drip.enrollments e
                          where e.sequence_id = s.id and e.contact_id = ev.contact_id and e.status = 'active')
          and ($3 is null
               or not exists (select from drip.enrollments e
                              where e.sequence_id = s.id and e.contact_id = ev.contact_id and e.occurrence = $3))
        -- one lock order for every writer, so concurrent bulk enrollments cannot deadlock; the
        -- same sort removes a pair asked for twice (two matching tags in one statement)
        order by s.id, ev.contact_id
        %s$sql$;
begin
    select array_agg(s.id order by s.id), array_agg(s.trigger_value order by s.id),
           array_agg(coalesce((select st.delay_hours from drip.sequence_steps st
                               where st.sequence_id = s.id and st.active
                               order by st.step_order limit 1), 0) order by s.id)
    into v_sequence_ids, v_sequence_values, v_first_delays
    from drip.sequences s
    where s.active and s.trigger_type = p_trigger_type;
    if v_sequence_ids is null or coalesce(cardinality(p_contact_ids), 0) = 0 then
        return 0;
    end if;

    begin
        execute format(v_insert, '')
            using p_contact_ids, p_values, p_occurrence, v_sequence_ids, v_sequence_values, v_first_delays,
                  p_trigger_type;
    exception when unique_violation then
        execute format(v_insert, 'on conflict do nothing')
            using p_contact_ids, p_values, p_occurrence, v_sequence_ids, v_sequence_values, v_first_delays,
                  p_trigger_type;
    end;
    get diagnostics v_count = row_count;

    -- wake the dispatcher only when a matching sequence starts with a 0-hour step (if only its
    -- delayed neighbours enrolled someone, the cost is one dispatch that finds nothing)
    if v_count > 0 and 0 >= any (v_first_delays) then
        perform pg_notify('drip_due', '');
    end if;
    return v_count;
end
$$;
revoke all on function drip.enroll_events(text, bigint[], text[], date) from public;
comment on function drip.enroll_events(text, bigint[], text[], date) is
    'Enrolls each (contact, value) event into every matching active sequence; returns new enrollments.';

-- sql/functions/210_fire_trigger.sql
-- drip.fire_trigger(p_trigger_type text, p_contact_id bigint, p_value text default null) returns integer
-- Entry point for applications with their own tables: enrolls the contact into every matching
-- active sequence and returns how many new enrollments; repeating an event is a no-op.
create or replace function drip.fire_trigger(
    p_trigger_type text, p_contact_id bigint, p_value text default null
) returns integer
language plpgsql volatile
security definer
set search_path = ''
as $$
begin
    perform drip.check_trigger(p_trigger_type, case when p_trigger_type = 'anniversary' then p_value end);
    -- FOR KEY SHARE, as a foreign key would: a concurrent delete of the contact waits for this
    -- transaction, then cascades to the enrollment made here (or has already happened: an error)
    if p_contact_id is null
       or not exists (select 1 from drip.contacts c where c.id = p_contact_id for key share) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = '23503', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    return drip.enroll_events(p_trigger_type, array[p_contact_id], array[p_value],
        case when p_trigger_type = 'anniversary' then drip.utc_date(now()) end);
end
$$;
revoke all on function drip.fire_trigger(text, bigint, text) from public;
comment on function drip.fire_trigger(text, bigint, text) is
    'Enrolls a contact into every matching active sequence; returns how many new enrollments.';

-- sql/functions/300_dispatch_batch.sql
-- drip.dispatch_batch(p_now timestamptz, p_limit integer, p_after_due timestamptz default null, p_after_id bigint default null, out claimed integer, out last_due timestamptz, out last_id bigint)
-- One batch of the dispatcher: claims up to p_limit due enrollments (SKIP LOCKED) after the
-- (next_step_due_at, id) cursor, queues the next active step of each, advances or completes
-- them. Returns how many it claimed and the cursor to pass to the next batch.
-- The cursor matters at scale: each batch moves its rows out of the due index and leaves dead
-- entries at its front; without it, batch k walked the dead entries of the k-1 batches before
-- (per-due time at 1M was 1.4x that at 10k). A row skipped because another transaction held
-- it is taken by the next call.

-- Replaced by the signature below (the cursor); dropped when upgrading from the first release.
drop function if exists drip.dispatch_batch(timestamptz, integer);

create or replace function drip.dispatch_batch(
    p_now timestamptz, p_limit integer, p_after_due timestamptz default null, p_after_id bigint default null,
    out claimed integer, out last_due timestamptz, out last_id bigint
)
language plpgsql volatile
set search_path = ''
-- Planning this statement costs about as much as running it for a few hundred rows: plan it
-- once per session. A batch touches at most p_limit rows, so the one plan must look them up by
-- key whatever the table sizes: a generic plan cannot see p_limit, and a sequential scan,
-- sort, hash or merge join would read whole tables in every batch (cost growing with history).
set plan_cache_mode = force_generic_plan
-- The generic plan's estimates are large enough to trigger JIT compilation, which then costs
-- more than the whole batch (140 ms per batch at 1M due): batches are small, never JIT them.
set jit = off
set enable_seqscan = off
set enable_sort = off
set enable_hashjoin = off
set enable_mergejoin = off
-- a Materialize of a whole index, planned while the outbox was small, was rescanned for every row
set enable_material = off
as $$
declare
    v_queued integer;
begin
    with due as (
        select e.id, e.sequence_id, e.contact_id, e.last_step_order_sent, e.next_step_due_at
        from drip.enrollments e
        where e.status = 'active'
          and e.next_step_due_at <= p_now
          and (e.next_step_due_at, e.id) > (coalesce(p_after_due, '-infinity'::timestamptz), coalesce(p_after_id, 0))
          -- one step per enrollment per call: a step queued by this call is not taken again
          and e.last_step_sent_at is distinct from p_now
          and exists (select 1 from drip.sequences s where s.id = e.sequence_id and s.active)
        order by e.next_step_due_at, e.id
        limit p_limit
        for update of e skip locked
    ), planned as (
        select d.id, d.contact_id, d.last_step_order_sent,
               cur.id as step_id, cur.step_order, cur.subject, cur.html_body, cur.subject_merge, cur.body_merge,
               nxt.delay_hours as next_delay
        from due d
        left join lateral (
            select st.id, st.step_order, st.subject, st.html_body, st.subject_merge, st.body_merge
            from drip.sequence_steps st
            where st.sequence_id = d.sequence_id and st.active and st.step_order > d.last_step_order_sent
            order by st.step_order limit 1
        ) cur on true
        left join lateral (
            select st.delay_hours from drip.sequence_steps st
            where st.sequence_id = d.sequence_id and st.active and st.step_order > cur.step_order
            order by st.step_order limit 1
        ) nxt on true
    ), queued as (
        insert into drip.outbox (enrollment_id, step_id, contact_id, to_address, subject, html_body)
        select p.id, p.step_id, p.contact_id, c.email,
               pg_catalog.btrim(drip.render_template(p.subject, p.subject_merge, c.first_name, c.last_name, c.email,
                                                     false)),
               drip.render_template(p.html_body, p.body_merge, c.first_name, c.last_name, c.email, true)
        from planned p
        join drip.contacts c on c.id = p.contact_id and c.unsubscribed_at is null
        where p.step_id is not null
          -- one row per (enrollment, step) even if an operator rewound the enrollment; a plain
          -- probe of the unique index, as ON CONFLICT's speculative insertion cost 15 % of a batch.
          -- No race: only the holder of the enrollment's row lock queues for it.
          and not exists (select from drip.outbox o where o.enrollment_id = p.id and o.step_id = p.step_id)
        returning 1
    ), advanced as (
        update drip.enrollments e
        set last_step_order_sent = coalesce(p.step_order, e.last_step_order_sent),
            last_step_sent_at = case when p.step_id is null then e.last_step_sent_at else p_now end,
            next_step_due_at = case when p.next_delay is null then null
                                    else p_now + p.next_delay * interval '1 hour' end,
            status = case when p.next_delay is null then 'completed' else 'active' end,
            completed_at = case when p.next_delay is null then p_now end
        from planned p
        where e.id = p.id
        returning 1
    )
    select (select count(*) from advanced), (select count(*) from queued), l.next_step_due_at, l.id
    into claimed, v_queued, last_due, last_id
    from (select) as one
    left join lateral (select d.next_step_due_at, d.id from due d
                       order by d.next_step_due_at desc, d.id desc limit 1) l on true;

    if v_queued > 0 then
        perform pg_notify('drip_outbox', '');
    end if;
end
$$;

-- sql/functions/310_dispatch_due.sql
-- call drip.dispatch_due(p_now timestamptz default now())
-- Queues the next step of every due enrollment, committing after each batch of 1000.
-- Safe to run concurrently (SKIP LOCKED). It commits, so it carries no SET clause and every
-- name is qualified; CALL it outside an explicit transaction block.
create or replace procedure drip.dispatch_due(p_now timestamptz default now())
language plpgsql
as $$
declare
    v_batch constant integer := 1000;
    v_claimed integer;
    -- where the last batch stopped in the due index (see dispatch_batch)
    v_after_due timestamptz;
    v_after_id bigint;
begin
    loop
        select b.claimed, b.last_due, b.last_id into v_claimed, v_after_due, v_after_id
        from drip.dispatch_batch(p_now, v_batch, v_after_due, v_after_id) b;
        commit;
        exit when v_claimed < v_batch;
    end loop;
end
$$;
comment on procedure drip.dispatch_due(timestamptz) is
    'Queues the next step of every due enrollment in committed batches; safe to run concurrently.';

-- sql/functions/400_anniversary_sweep.sql
-- call drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
-- Enrolls contacts whose birthday or sign-up anniversary falls on p_date into the active
-- anniversary sequences; 29 February is celebrated on 28 February in other years.
-- Safe to run twice: an anniversary enrolls once per (sequence, contact, date).
create or replace procedure drip.anniversary_sweep(p_date date default (now() at time zone 'UTC')::date)
language plpgsql
set search_path = ''
set jit = off  -- index lookups of one day's contacts; JIT compilation would cost more than the sweep
as $$
declare
    v_days integer[];
begin
    if p_date is null then
        raise exception 'p_date must not be NULL'
            using errcode = '22004', column = 'p_date', detail = 'field: p_date',
                  hint = 'Pass the date to sweep, or omit it for today (UTC).';
    end if;
    v_days := array[drip.month_day(p_date)];
    -- In a year without 29 February, those contacts celebrate on 28 February.
    if drip.month_day(p_date) = 228
       and extract(day from (date_trunc('year', p_date) + interval '1 month 28 days')) <> 29 then
        v_days := v_days || 229;
    end if;

    -- The day's contacts are locked FOR KEY SHARE, as a foreign key would: a concurrent delete
    -- waits for the sweep, then cascades to the enrollments made here.
    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'birthday') then
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('birthday'::text, array[count(*)::integer]), p_date)
        from (select c.id from drip.contacts c
              where drip.month_day(c.birthday) = any (v_days)
                and c.birthday is not null and c.unsubscribed_at is null
              for key share) c;
    end if;

    if exists (select 1 from drip.sequences s
               where s.active and s.trigger_type = 'anniversary' and s.trigger_value = 'created') then
        perform drip.enroll_events('anniversary', array_agg(c.id), array_fill('created'::text, array[count(*)::integer]), p_date)
        from (select c.id from drip.contacts c
              where drip.month_day(drip.utc_date(c.created_at)) = any (v_days)
                and c.unsubscribed_at is null
                -- created anniversaries start in the year after sign-up
                and extract(year from drip.utc_date(c.created_at)) < extract(year from p_date)
              for key share) c;
    end if;

    insert into drip.sweeps (sweep_date) values (p_date)
    on conflict (sweep_date) do update set swept_at = now();
end
$$;
comment on procedure drip.anniversary_sweep(date) is
    'Enrolls contacts whose birthday or sign-up anniversary is p_date; safe to run twice.';

-- sql/functions/410_claim_sweep.sql
-- drip.claim_sweep(p_date date, p_runner text) returns boolean
-- True for exactly one caller per day: the runner that should sweep p_date.
create or replace function drip.claim_sweep(p_date date, p_runner text) returns boolean
language sql volatile
set search_path = ''
as $$
    insert into drip.sweeps (sweep_date, claimed_by) values (p_date, p_runner)
    on conflict (sweep_date) do nothing
    returning true
$$;

-- sql/functions/500_cancel_enrollment.sql
-- drip.cancel_enrollment(p_enrollment_id bigint) returns boolean
-- Cancels an enrollment and its queued mail; true if it was active. An unknown id is an error.
create or replace function drip.cancel_enrollment(p_enrollment_id bigint) returns boolean
language plpgsql volatile
set search_path = ''
as $$
declare
    v_was_active boolean;
begin
    update drip.enrollments e
    set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
    where e.id = p_enrollment_id and e.status = 'active';
    v_was_active := found;
    if not v_was_active and not exists (select 1 from drip.enrollments e where e.id = p_enrollment_id) then
        raise exception 'enrollment % does not exist', coalesce(p_enrollment_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_enrollment_id', detail = 'field: p_enrollment_id',
                  hint = 'List enrollments with: select * from drip.enrollment_overview';
    end if;
    update drip.outbox o set status = 'cancelled', last_error = 'enrollment cancelled'
    where o.enrollment_id = p_enrollment_id and o.status = 'queued';
    return v_was_active;
end
$$;

-- sql/functions/510_create_sequence_from_prefab.sql
-- drip.create_sequence_from_prefab(p_prefab text, p_name text default null, p_trigger_value text default null) returns bigint
-- Creates a ready-made sequence: birthday, welcome (0h, 24h, +6 days) or post_purchase
-- (0h, +3 days). Returns the new sequence id.
create or replace function drip.create_sequence_from_prefab(
    p_prefab text, p_name text default null, p_trigger_value text default null
) returns bigint
language plpgsql volatile
set search_path = ''
as $$
declare
    v_id bigint;
begin
    if p_prefab is null or p_prefab not in ('birthday', 'welcome', 'post_purchase') then
        raise exception 'unknown prefab: %', coalesce(quote_literal(left(p_prefab, 60)), 'NULL')
            using errcode = '22023', column = 'p_prefab', detail = 'field: p_prefab',
                  hint = 'Use birthday, welcome or post_purchase.';
    end if;
    if p_prefab = 'birthday' then
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'Birthday greeting'), 'A greeting on each contact''s birthday.',
                'anniversary', coalesce(p_trigger_value, 'birthday'))
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Happy birthday, {{FirstName|friend}}!',
         '<p>Happy birthday, {{FirstName|friend}}!</p><p>All of us wish you a wonderful day.</p>');
    elsif p_prefab = 'welcome' then
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'Welcome series'), 'Three emails that welcome a new contact.',
                'tag_added', coalesce(p_trigger_value, 'welcome'))
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Welcome, {{FirstName|there}}!',
         '<p>Hi {{FirstName|there}},</p><p>Thanks for joining us. We are glad you are here.</p>'),
        (v_id, 2, 24, 'Getting started, {{FirstName|there}}',
         '<p>Hi {{FirstName|there}},</p><p>Here are three things most people do on their first day.</p>'),
        (v_id, 3, 144, 'One week in: how is it going?',
         '<p>Hi {{FirstName|there}},</p><p>You have been with us a week. Reply and tell us how it is going.</p>');
    else
        insert into drip.sequences (name, description, trigger_type, trigger_value)
        values (coalesce(p_name, 'After purchase'), 'A thank-you and a follow-up after a purchase.',
                'after_purchase', p_trigger_value)
        returning id into v_id;
        insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) values
        (v_id, 1, 0, 'Thank you for your order, {{FirstName|there}}',
         '<p>Hi {{FirstName|there}},</p><p>Thank you for your purchase. We are preparing it now.</p>'),
        (v_id, 2, 72, 'How are you finding it, {{FirstName|there}}?',
         '<p>Hi {{FirstName|there}},</p><p>A few days in: is everything working as you hoped?</p>');
    end if;
    return v_id;
end
$$;

-- sql/functions/600_sequence_overview.sql
-- view drip.sequence_overview
-- One row per sequence: trigger, step count, active enrollments, active flag.
create or replace view drip.sequence_overview as
select s.id, s.name, s.trigger_type, s.trigger_value,
       (select count(*) from drip.sequence_steps st where st.sequence_id = s.id and st.active)::integer as step_count,
       (select count(*) from drip.enrollments e where e.sequence_id = s.id and e.status = 'active')::integer
           as active_enrollments,
       s.active
from drip.sequences s;

-- sql/functions/610_enrollment_overview.sql
-- view drip.enrollment_overview
-- One row per enrollment: sequence, contact email, status and progress.
create or replace view drip.enrollment_overview as
select e.id, e.sequence_id, s.name as sequence, e.contact_id, c.email as contact_email,
       e.status, e.last_step_order_sent, e.next_step_due_at, e.enrolled_at
from drip.enrollments e
join drip.sequences s on s.id = e.sequence_id
join drip.contacts c on c.id = e.contact_id;

-- sql/functions/620_status.sql
-- view drip.status
-- One row of health figures for `pgdrip status`.
create or replace view drip.status as
select
    (select count(*) from drip.enrollments e
      where e.status = 'active' and e.next_step_due_at <= now())::bigint as due_now,
    (select count(*) from drip.outbox o where o.status in ('queued', 'sending'))::bigint as queued,
    (select count(*) from drip.outbox o where o.status = 'failed')::bigint as failed,
    (select now() - min(o.created_at) from drip.outbox o where o.status in ('queued', 'sending')) as oldest_queued_age,
    (select max(w.sweep_date) from drip.sweeps w) as last_sweep,
    (select count(*) from drip.runners r where r.seen_at > now() - interval '5 minutes')::bigint as runners_recent;

-- sql/functions/700_claim_outbox.sql
-- drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer) returns setof drip.outbox
-- Leases up to p_limit sendable rows (queued and due, or sending with an expired lease) to
-- one runner with SKIP LOCKED. A row of an unsubscribed contact is cancelled, never handed out.
create or replace function drip.claim_outbox(p_runner text, p_limit integer, p_lease_seconds integer)
returns setof drip.outbox
language plpgsql volatile
set search_path = ''
as $$
begin
    -- Last line of defence for behaviour 6: whatever slipped past, nobody unsubscribed is mailed.
    update drip.outbox o set status = 'cancelled', last_error = 'contact unsubscribed'
    from drip.contacts c
    where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
      and c.id = o.contact_id and c.unsubscribed_at is not null;

    return query
    with picked as (
        select o.id from drip.outbox o
        where o.status in ('queued', 'sending') and o.next_attempt_at <= now()
        order by o.next_attempt_at, o.id
        limit p_limit
        for update skip locked
    )
    update drip.outbox o
    set status = 'sending', locked_by = p_runner, attempts = o.attempts + 1,
        next_attempt_at = now() + p_lease_seconds * interval '1 second'
    from picked
    where o.id = picked.id
    returning o.*;
end
$$;

-- sql/functions/710_finish_outbox.sql
-- drip.finish_outbox(p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null) returns integer
-- Records what happened to rows this runner leased: sent, retry (backoff 30 s doubling to
-- 1 h; failed after 8 attempts), failed (permanent), or release (handed back untried).
create or replace function drip.finish_outbox(
    p_runner text, p_ids bigint[], p_outcome text, p_errors text[] default null
) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_max_attempts constant integer := 8;
    v_count integer;
begin
    if p_outcome is null or p_outcome not in ('sent', 'retry', 'failed', 'release') then
        raise exception 'unknown outcome: %', coalesce(quote_literal(p_outcome), 'NULL')
            using errcode = '22023', column = 'p_outcome', detail = 'field: p_outcome',
                  hint = 'Use sent, retry, failed or release.';
    end if;
    update drip.outbox o
    set status = case
            when p_outcome = 'sent' then 'sent'
            when p_outcome = 'failed' then 'failed'
            when p_outcome = 'retry' and o.attempts >= v_max_attempts then 'failed'
            else 'queued' end,
        sent_at = case when p_outcome = 'sent' then now() end,
        last_error = case when p_outcome in ('retry', 'failed') then left(r.error, 2000) else o.last_error end,
        attempts = case when p_outcome = 'release' then greatest(o.attempts - 1, 0) else o.attempts end,
        next_attempt_at = case
            when p_outcome = 'retry' then now() + least(30 * power(2, greatest(o.attempts - 1, 0)), 3600) * interval '1 second'
            when p_outcome = 'release' then now()
            else o.next_attempt_at end,
        locked_by = null
    from unnest(p_ids, coalesce(p_errors, array[]::text[])) as r (id, error)
    where o.id = r.id and o.status = 'sending' and o.locked_by = p_runner;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

-- sql/functions/720_retry_outbox.sql
-- drip.retry_outbox(p_ids bigint[]) returns integer
-- Queues failed rows again (all failed rows when p_ids is NULL), with fresh attempts.
-- Rows of unsubscribed contacts stay as they are. Returns how many were queued.
create or replace function drip.retry_outbox(p_ids bigint[] default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_count integer;
begin
    update drip.outbox o
    set status = 'queued', attempts = 0, next_attempt_at = now(), locked_by = null
    from drip.contacts c
    where o.status = 'failed' and (p_ids is null or o.id = any (p_ids))
      and c.id = o.contact_id and c.unsubscribed_at is null;
    get diagnostics v_count = row_count;
    if v_count > 0 then
        perform pg_notify('drip_outbox', '');
    end if;
    return v_count;
end
$$;

-- sql/functions/730_runner_heartbeat.sql
-- drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
-- Records that a runner is alive, for `pgdrip status`.
create or replace function drip.runner_heartbeat(p_name text, p_host text, p_pid integer) returns void
language sql volatile
set search_path = ''
as $$
    insert into drip.runners (name, host, pid) values (p_name, p_host, p_pid)
    on conflict (name) do update set seen_at = now(), host = excluded.host, pid = excluded.pid
$$;

-- sql/functions/740_preview_step.sql
-- drip.preview_step(p_step_id bigint, p_contact_id bigint) returns table (to_address text, subject text, html_body text)
-- The message a step would send to a contact, rendered exactly as the dispatcher does.
create or replace function drip.preview_step(p_step_id bigint, p_contact_id bigint)
returns table (to_address text, subject text, html_body text)
language plpgsql stable
set search_path = ''
as $$
begin
    if not exists (select 1 from drip.sequence_steps st where st.id = p_step_id) then
        raise exception 'step % does not exist', coalesce(p_step_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_step_id', detail = 'field: p_step_id',
                  hint = 'See the step ids with: pgdrip sequences show ID';
    end if;
    if not exists (select 1 from drip.contacts c where c.id = p_contact_id) then
        raise exception 'contact % does not exist', coalesce(p_contact_id::text, 'NULL')
            using errcode = 'P0002', column = 'p_contact_id', detail = 'field: p_contact_id',
                  hint = 'Pass the id of a row in drip.contacts.';
    end if;
    return query
    select c.email,
           drip.render_subject(st.subject, c.first_name, c.last_name, c.email),
           drip.render_merge(st.html_body, c.first_name, c.last_name, c.email, true)
    from drip.sequence_steps st, drip.contacts c
    where st.id = p_step_id and c.id = p_contact_id;
end
$$;

-- sql/triggers/contact_tags__check_refs.sql
-- trigger drip.tg_contact_tags__check_refs() on drip.contact_tags, after insert or update, per statement
-- The references to contacts and tags, checked once per statement (see drip.require_rows).
-- Named to fire before contact_tags__enroll.
create or replace function drip.tg_contact_tags__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    perform drip.require_rows('tags', (select array_agg(distinct n.tag_id) from new_rows n), 'tag_id');
    return null;
end
$$;
create or replace trigger contact_tags__check_refs_insert
    after insert on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__check_refs();
create or replace trigger contact_tags__check_refs_update
    after update on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__check_refs();

-- sql/triggers/contact_tags__enroll.sql
-- trigger drip.tg_contact_tags__enroll() on drip.contact_tags, after insert, per statement
-- Fires tag_added for every inserted (contact, tag) in one set-based call.
create or replace function drip.tg_contact_tags__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'tag_added') then
        perform drip.enroll_events('tag_added', array_agg(n.contact_id), array_agg(t.name))
        from new_rows n join drip.tags t on t.id = n.tag_id;
    end if;
    return null;
end
$$;
create or replace trigger contact_tags__enroll
    after insert on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__enroll();

-- sql/triggers/contacts__forget.sql
-- trigger drip.tg_contacts__forget() on drip.contacts, after delete, per statement
-- Deleting a contact deletes its tags, group memberships, enrollments and outbox rows (none of
-- which carry foreign keys; see their tables).
create or replace function drip.tg_contacts__forget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from drip.contact_tags t using old_rows d where t.contact_id = d.id;
    delete from drip.group_members g using old_rows d where g.contact_id = d.id;
    delete from drip.outbox o using old_rows d where o.contact_id = d.id;
    delete from drip.enrollments e using old_rows d where e.contact_id = d.id;
    return null;
end
$$;
revoke all on function drip.tg_contacts__forget() from public;
create or replace trigger contacts__forget
    after delete on drip.contacts
    referencing old table as old_rows
    for each statement execute function drip.tg_contacts__forget();

-- sql/triggers/contacts__unsubscribe.sql
-- trigger drip.tg_contacts__unsubscribe() on drip.contacts, after update, per statement
-- Unsubscribing cancels the contact's active enrollments and unsent mail in the same
-- transaction (enrollments first: that waits for a dispatcher holding them).
create or replace function drip.tg_contacts__unsubscribe() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update drip.enrollments e
    set status = 'cancelled', cancelled_at = now(), next_step_due_at = null
    from new_rows n join old_rows o on o.id = n.id
    where n.unsubscribed_at is not null and o.unsubscribed_at is null
      and e.contact_id = n.id and e.status = 'active';

    update drip.outbox ob
    set status = 'cancelled', last_error = 'contact unsubscribed'
    from new_rows n join old_rows o on o.id = n.id
    where n.unsubscribed_at is not null and o.unsubscribed_at is null
      and ob.contact_id = n.id and ob.status in ('queued', 'sending');
    return null;
end
$$;
revoke all on function drip.tg_contacts__unsubscribe() from public;
create or replace trigger contacts__unsubscribe
    after update on drip.contacts
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_contacts__unsubscribe();

-- sql/triggers/contacts__validate.sql
-- trigger drip.tg_contacts__validate() on drip.contacts, before insert or update, per row
-- Refuses a malformed email with an error naming the field.
create or replace function drip.tg_contacts__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.check_email(new.email, 'email');
    if length(new.first_name) > 200 or length(new.last_name) > 200
       or new.first_name ~ '[[:cntrl:]]' or new.last_name ~ '[[:cntrl:]]' then
        raise exception 'malformed name on contact %', new.email
            using errcode = '22023',
                  column = case when length(new.first_name) > 200 or new.first_name ~ '[[:cntrl:]]'
                                then 'first_name' else 'last_name' end,
                  detail = format('field: %s', case when length(new.first_name) > 200 or new.first_name ~ '[[:cntrl:]]'
                                then 'first_name' else 'last_name' end),
                  hint = 'Names are at most 200 characters, without control characters.';
    end if;
    return new;
end
$$;
create or replace trigger contacts__validate
    before insert or update of email, first_name, last_name on drip.contacts
    for each row execute function drip.tg_contacts__validate();

-- sql/triggers/group_members__check_refs.sql
-- trigger drip.tg_group_members__check_refs() on drip.group_members, after insert or update, per statement
-- The references to groups and contacts, checked once per statement (see drip.require_rows).
-- Named to fire before group_members__enroll.
create or replace function drip.tg_group_members__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    perform drip.require_rows('groups', (select array_agg(distinct n.group_id) from new_rows n), 'group_id');
    return null;
end
$$;
create or replace trigger group_members__check_refs_insert
    after insert on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__check_refs();
create or replace trigger group_members__check_refs_update
    after update on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__check_refs();

-- sql/triggers/group_members__enroll.sql
-- trigger drip.tg_group_members__enroll() on drip.group_members, after insert, per statement
-- Fires group_added for every inserted (group, contact) in one set-based call.
create or replace function drip.tg_group_members__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'group_added') then
        perform drip.enroll_events('group_added', array_agg(n.contact_id), array_agg(n.group_id::text))
        from new_rows n;
    end if;
    return null;
end
$$;
create or replace trigger group_members__enroll
    after insert on drip.group_members
    referencing new table as new_rows
    for each statement execute function drip.tg_group_members__enroll();

-- sql/triggers/groups__forget.sql
-- trigger drip.tg_groups__forget() on drip.groups, after delete, per statement
-- Deleting a group removes its memberships.
create or replace function drip.tg_groups__forget() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    delete from drip.group_members g using old_rows d where g.group_id = d.id;
    return null;
end
$$;
create or replace trigger groups__forget
    after delete on drip.groups
    referencing old table as old_rows
    for each statement execute function drip.tg_groups__forget();

-- sql/triggers/link_clicks__enroll.sql
-- trigger drip.tg_link_clicks__enroll() on drip.link_clicks, after insert, per statement
-- Fires after_first_click for a contact's first click in a mailing.
create or replace function drip.tg_link_clicks__enroll() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'after_first_click') then
        perform drip.enroll_events('after_first_click', array_agg(n.contact_id), array_agg(n.mailing_id::text))
        from new_rows n
        where not exists (
            select 1 from drip.link_clicks c
            where c.contact_id = n.contact_id and c.mailing_id = n.mailing_id and c.id < n.id);
    end if;
    return null;
end
$$;
create or replace trigger link_clicks__enroll
    after insert on drip.link_clicks
    referencing new table as new_rows
    for each statement execute function drip.tg_link_clicks__enroll();

-- sql/triggers/purchases__enroll.sql
-- trigger drip.tg_purchases__enroll_insert() / tg_purchases__enroll_update() on drip.purchases, per statement
-- Fires after_purchase for purchases inserted as confirmed or confirmed for the first time.
-- (Two functions: a trigger with transition tables serves one event only.)
create or replace function drip.tg_purchases__enroll_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'after_purchase') then
        perform drip.enroll_events('after_purchase', array_agg(n.contact_id), array_agg(n.product_id))
        from new_rows n where n.status = 'confirmed';
    end if;
    return null;
end
$$;
create or replace function drip.tg_purchases__enroll_update() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select 1 from drip.sequences s where s.active and s.trigger_type = 'after_purchase') then
        perform drip.enroll_events('after_purchase', array_agg(n.contact_id), array_agg(n.product_id))
        from new_rows n join old_rows o on o.id = n.id
        where n.confirmed_at is not null and o.confirmed_at is null;
    end if;
    return null;
end
$$;
create or replace trigger purchases__enroll_insert
    after insert on drip.purchases
    referencing new table as new_rows
    for each statement execute function drip.tg_purchases__enroll_insert();
create or replace trigger purchases__enroll_update
    after update on drip.purchases
    referencing old table as old_rows new table as new_rows
    for each statement execute function drip.tg_purchases__enroll_update();

-- sql/triggers/purchases__stamp_confirmed.sql
-- trigger drip.tg_purchases__stamp_confirmed() on drip.purchases, before insert or update, per row
-- Stamps confirmed_at the first time a purchase is confirmed, so it enrolls once per purchase.
create or replace function drip.tg_purchases__stamp_confirmed() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.status = 'confirmed' and new.confirmed_at is null then
        new.confirmed_at := now();
    end if;
    if tg_op = 'UPDATE' and old.confirmed_at is not null then
        new.confirmed_at := old.confirmed_at;
    end if;
    return new;
end
$$;
create or replace trigger purchases__stamp_confirmed
    before insert or update on drip.purchases
    for each row execute function drip.tg_purchases__stamp_confirmed();

-- sql/triggers/sequence_steps__validate.sql
-- trigger drip.tg_sequence_steps__validate() on drip.sequence_steps, before insert or update, per row
-- Refuses a negative delay, an empty or multi-line subject, an empty body, an unknown merge tag.
create or replace function drip.tg_sequence_steps__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.step_order is null or new.step_order < 1 then
        raise exception 'step_order must be 1 or more, not %', coalesce(new.step_order::text, 'NULL')
            using errcode = '22023', column = 'step_order', detail = 'field: step_order',
                  hint = 'Number the steps of a sequence 1, 2, 3, ...';
    end if;
    if new.delay_hours is null or new.delay_hours < 0 or new.delay_hours > 87600 then
        raise exception 'delay_hours must be between 0 and 87600, not %', coalesce(new.delay_hours::text, 'NULL')
            using errcode = '22023', column = 'delay_hours', detail = 'field: delay_hours',
                  hint = 'The delay counts hours after the previous send (0 sends at once).';
    end if;
    if new.subject is null or btrim(new.subject) = '' then
        raise exception 'subject must not be empty'
            using errcode = '22023', column = 'subject', detail = 'field: subject',
                  hint = 'Give the step a subject line.';
    end if;
    if new.subject ~ '[[:cntrl:]\u2028\u2029]' or length(new.subject) > 500 then
        raise exception 'subject must be one line of at most 500 characters'
            using errcode = '22023', column = 'subject', detail = 'field: subject',
                  hint = 'Remove line breaks and control characters from the subject.';
    end if;
    if new.html_body is null or btrim(new.html_body) = '' or length(new.html_body) > 1000000 then
        raise exception 'html_body must be 1 to 1000000 characters'
            using errcode = '22023', column = 'html_body', detail = 'field: html_body',
                  hint = 'Give the step an HTML body.';
    end if;
    perform drip.check_merge_tags(new.subject, 'subject');
    perform drip.check_merge_tags(new.html_body, 'html_body');
    return new;
end
$$;
create or replace trigger sequence_steps__validate
    before insert or update on drip.sequence_steps
    for each row execute function drip.tg_sequence_steps__validate();

-- sql/triggers/sequences__protect.sql
-- trigger drip.tg_sequences__protect() on drip.sequences, before delete, per row
-- A sequence with enrollments is history: deleting it is refused (deactivate it instead).
create or replace function drip.tg_sequences__protect() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (select 1 from drip.enrollments e where e.sequence_id = old.id) then
        raise exception 'sequence % has enrollments and cannot be deleted', old.id
            using errcode = '23503', column = 'id', detail = 'field: id',
                  hint = 'Deactivate it instead: update drip.sequences set active = false where id = ...';
    end if;
    return old;
end
$$;
revoke all on function drip.tg_sequences__protect() from public;
create or replace trigger sequences__protect
    before delete on drip.sequences
    for each row execute function drip.tg_sequences__protect();

-- sql/triggers/sequences__validate.sql
-- trigger drip.tg_sequences__validate() on drip.sequences, before insert or update, per row
-- Refuses an empty name, an unknown trigger type or a trigger value it cannot match.
create or replace function drip.tg_sequences__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.name is null or btrim(new.name) = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]' then
        raise exception 'sequence name must be 1 to 200 characters without control characters'
            using errcode = '22023', column = 'name', detail = 'field: name',
                  hint = 'Give the sequence a short readable name.';
    end if;
    perform drip.check_trigger(new.trigger_type, new.trigger_value);
    new.updated_at := now();
    return new;
end
$$;
create or replace trigger sequences__validate
    before insert or update on drip.sequences
    for each row execute function drip.tg_sequences__validate();

-- sql/triggers/tags__forget.sql
-- trigger drip.tg_tags__forget() on drip.tags, after delete, per statement
-- Deleting a tag removes it from every contact.
create or replace function drip.tg_tags__forget() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    delete from drip.contact_tags t using old_rows d where t.tag_id = d.id;
    return null;
end
$$;
create or replace trigger tags__forget
    after delete on drip.tags
    referencing old table as old_rows
    for each statement execute function drip.tg_tags__forget();

-- sql/triggers/tags__validate.sql
-- trigger drip.tg_tags__validate() on drip.tags and drip.groups, before insert or update, per row
-- Refuses an empty, over-long or control-character name.
create or replace function drip.tg_tags__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.name is null or btrim(new.name) = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]' then
        raise exception '% name must be 1 to 200 characters without control characters', rtrim(tg_table_name, 's')
            using errcode = '22023', column = 'name', detail = 'field: name',
                  hint = 'Give a short readable name.';
    end if;
    return new;
end
$$;
create or replace trigger tags__validate
    before insert or update on drip.tags
    for each row execute function drip.tg_tags__validate();
create or replace trigger groups__validate
    before insert or update on drip.groups
    for each row execute function drip.tg_tags__validate();

-- sql/privileges.sql
-- roles drip_app, drip_runner, drip_admin and their grants
-- Least privilege: applications write their tables and read sequences; runners dispatch,
-- sweep and work the outbox; admins manage sequences. Nothing is granted to PUBLIC.
do $$
declare
    v_role text;
begin
    foreach v_role in array array['drip_app', 'drip_runner', 'drip_admin'] loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
            begin
                execute format('create role %I nologin', v_role);
            exception when duplicate_object or unique_violation then
                null;  -- another database of this cluster created it a moment ago
            end;
        end if;
    end loop;
end
$$;

revoke all on all tables in schema drip from public;
revoke all on all functions in schema drip from public;
revoke all on all procedures in schema drip from public;
grant usage on schema drip to drip_app, drip_runner, drip_admin;

-- pure helpers anyone with schema usage may call
grant execute on function drip.month_day(date), drip.utc_date(timestamptz), drip.html_escape(text),
    drip.merge_forms(text), drip.render_template(text, text[], text, text, text, boolean),
    drip.merge_value(text, boolean), drip.render_merge(text, text, text, text, boolean),
    drip.render_subject(text, text, text, text),
    drip.check_merge_tags(text, text), drip.check_email(text, text), drip.check_trigger(text, text),
    drip.require_rows(text, bigint[], text)
    to drip_app, drip_runner, drip_admin;

-- applications: write contact data, read configuration, fire triggers
grant select, insert, update, delete on drip.contacts, drip.tags, drip.contact_tags, drip.groups,
    drip.group_members, drip.purchases, drip.link_clicks to drip_app;
grant select on drip.sequences, drip.sequence_steps, drip.sequence_overview to drip_app;
grant execute on function drip.fire_trigger(text, bigint, text), drip.enroll_events(text, bigint[], text[], date)
    to drip_app;

-- runners: dispatch, sweep, drain
grant select on drip.contacts, drip.sequences, drip.sequence_steps, drip.sweeps, drip.runners,
    drip.status to drip_runner;
grant select, update on drip.enrollments to drip_runner;
grant select, insert, update on drip.outbox, drip.sweeps, drip.runners to drip_runner;
grant execute on procedure drip.dispatch_due(timestamptz), drip.anniversary_sweep(date) to drip_runner;
grant execute on function drip.dispatch_batch(timestamptz, integer, timestamptz, bigint), drip.claim_sweep(date, text),
    drip.claim_outbox(text, integer, integer), drip.finish_outbox(text, bigint[], text, text[]),
    drip.runner_heartbeat(text, text, integer), drip.enroll_events(text, bigint[], text[], date)
    to drip_runner;

-- admins: everything a runner does, plus sequences and operator actions
grant drip_runner to drip_admin;
grant select, insert, update, delete on drip.sequences, drip.sequence_steps to drip_admin;
grant select on all tables in schema drip to drip_admin;
grant update on drip.contacts to drip_admin;
grant execute on function drip.cancel_enrollment(bigint), drip.retry_outbox(bigint[]),
    drip.create_sequence_from_prefab(text, text, text), drip.preview_step(bigint, bigint),
    drip.fire_trigger(text, bigint, text) to drip_admin;
