-- drip.save_variants(p_step_id bigint, p_variants jsonb) returns table (variant_id bigint, name text, action text)
-- Makes a step's variants the list p_variants (a JSON array of {name, subject, html_body,
-- optional weight and active}), matched by name (case-insensitive): a listed name that exists is
-- updated, a new one inserted, and a variant not listed is deactivated, never deleted (the report
-- keeps its counts). Each variant is validated as a step is. Used by `pgdrip apply`. Returns what
-- happened to each ('insert', 'update', 'unchanged', 'deactivate').
create or replace function drip.save_variants(p_step_id bigint, p_variants jsonb)
returns table (variant_id bigint, name text, action text)
language plpgsql volatile
set search_path = ''
as $$
declare
    v_el jsonb;
    v_old drip.step_variants;
    v_id bigint;
    v_unknown text;
    v_seen bigint[] := '{}'::bigint[];
begin
    if p_variants is null or jsonb_typeof(p_variants) <> 'array' then
        raise exception 'variants must be a JSON array'
            using errcode = '22023', column = 'variants', detail = 'field: variants',
                  hint = 'Pass [{"name": "B", "subject": "...", "html_body": "...", "weight": 1}, ...].';
    end if;
    for v_el in select x from jsonb_array_elements(p_variants) x loop
        if jsonb_typeof(v_el) <> 'object' then
            raise exception 'each variant must be a JSON object'
                using errcode = '22023', column = 'variants', detail = 'field: variants';
        end if;
        select string_agg(k, ', ' order by k) into v_unknown from jsonb_object_keys(v_el) k
        where k not in ('name', 'subject', 'html_body', 'weight', 'active');
        if v_unknown is not null then
            raise exception 'unknown variant field(s): %', v_unknown
                using errcode = '22023', column = 'variants', detail = 'field: variants',
                      hint = 'A variant has name, subject, html_body, weight and active.';
        end if;
        select * into v_old from drip.step_variants v
        where v.step_id = p_step_id and lower(v.name) = lower(btrim(v_el ->> 'name'));
        if v_old.id is null then
            insert into drip.step_variants (step_id, name, subject, html_body, weight, active)
            values (p_step_id, v_el ->> 'name', v_el ->> 'subject', v_el ->> 'html_body',
                    coalesce((v_el ->> 'weight')::integer, 1), coalesce((v_el ->> 'active')::boolean, true))
            returning id into v_id;
            variant_id := v_id; name := v_el ->> 'name'; action := 'insert';
        else
            update drip.step_variants v
            set subject = coalesce(v_el ->> 'subject', v.subject), html_body = coalesce(v_el ->> 'html_body', v.html_body),
                weight = coalesce((v_el ->> 'weight')::integer, v.weight),
                active = coalesce((v_el ->> 'active')::boolean, true)
            where v.id = v_old.id;
            v_id := v_old.id;
            variant_id := v_id; name := v_old.name;
            action := case when (v_old.subject, v_old.html_body, v_old.weight, v_old.active) =
                                (select x.subject, x.html_body, x.weight, x.active from drip.step_variants x where x.id = v_id)
                           then 'unchanged' else 'update' end;
        end if;
        v_seen := v_seen || v_id;
        return next;
    end loop;
    return query
    update drip.step_variants v set active = false
    where v.step_id = p_step_id and v.active and v.id <> all (v_seen)
    returning v.id, v.name, 'deactivate'::text;
end
$$;
comment on function drip.save_variants(bigint, jsonb) is
    'Replaces a step''s variants by name: updates, inserts, and deactivates the ones not listed.';
