-- drip.json_text(p_text text, p_field text) returns jsonb
-- JSON written as text (a condition in a form's text box or a file), parsed; blank is NULL. Text
-- that is not JSON is refused naming p_field (22023), with where the parser stopped.
create or replace function drip.json_text(p_text text, p_field text) returns jsonb
language plpgsql immutable
set search_path = ''
as $$
declare
    v_problem text;
begin
    if p_text is null or btrim(p_text) = '' then
        return null;
    end if;
    return p_text::jsonb;
exception when invalid_text_representation then
    get stacked diagnostics v_problem = pg_exception_detail;
    raise exception '% is not JSON: %', p_field, coalesce(v_problem, 'cannot be parsed')
        using errcode = '22023', column = p_field, detail = 'field: ' || p_field,
              hint = 'Write a condition as a JSON object, such as {"tag": "vip"}.';
end
$$;
