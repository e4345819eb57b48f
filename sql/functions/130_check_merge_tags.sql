-- drip.check_merge_tags(p_text text, p_field text) returns void
-- Refuses text whose {{...}} placeholders are not FirstName, LastName, Email, attribute.NAME or
-- event.NAME (each with an optional |fallback). The names of attributes and payload keys are not
-- checked: a missing one renders its fallback, or nothing (behaviour 18).
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
        if v_tag !~* '^\s*(FirstName|LastName|Email|(attribute|event)\.[^|{}[:space:]][^|{}]*?)\s*(\|[^{}]*)?$' then
            raise exception 'unknown merge tag {{%}} in %', left(v_tag, 60), p_field
                using errcode = '22023', column = p_field,
                      detail = format('field: %s', p_field),
                      hint = 'Use {{FirstName}}, {{LastName}}, {{Email}}, {{attribute.NAME}} or {{event.NAME}}, '
                             'optionally with a fallback: {{FirstName|there}}.';
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
