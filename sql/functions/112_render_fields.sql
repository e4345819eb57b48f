-- drip.render_fields(p_template text, p_attributes jsonb, p_payload jsonb, p_html boolean) returns text
-- Fills a template's {{attribute.NAME|fallback}} tags from the contact's attributes and its
-- {{event.NAME|fallback}} tags from the payload of the event that enrolled the contact
-- (behaviour 18). A string is written as it is, any other JSON value as jsonb prints it (42, 7.5,
-- true); a missing, null or empty value takes the fallback, else nothing. Values are escaped like
-- the other tags (drip.merge_value). Steps record whether they have such tags
-- (sequence_steps.field_tags): the dispatcher calls this only for those, then renders the
-- FirstName/LastName/Email tags as before.
create or replace function drip.render_fields(p_template text, p_attributes jsonb, p_payload jsonb, p_html boolean)
returns text
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_out text := p_template;
    v_tag text[];
    v_value jsonb;
begin
    if p_template is null or strpos(p_template, '{{') = 0 then
        return p_template;
    end if;
    for v_tag in
        select distinct m
        from regexp_matches(p_template, '(\{\{\s*(attribute|event)\.([^|{}]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\})', 'gi') m
    loop
        v_value := case lower(v_tag[2]) when 'attribute' then p_attributes else p_payload end -> v_tag[3];
        v_out := replace(v_out, v_tag[1], coalesce(
            drip.merge_value(case jsonb_typeof(v_value) when 'string' then v_value #>> '{}' when 'null' then null
                                                        else v_value::text end, p_html),
            v_tag[4], ''));
    end loop;
    return v_out;
end
$$;
comment on function drip.render_fields(text, jsonb, jsonb, boolean) is
    'Fills {{attribute.X|fallback}} and {{event.X|fallback}} tags from the attributes and the enrolling event''s payload.';
