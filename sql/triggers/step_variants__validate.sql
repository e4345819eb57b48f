-- trigger drip.tg_step_variants__validate() on drip.step_variants, before insert or update, per row
-- A variant is checked as a step is (behaviour 25): a subject of one line, a body, merge tags that
-- exist; and a name, a weight above 0, a step that exists. Errors name the column.
create or replace function drip.tg_step_variants__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.step_id is null or not exists (select from drip.sequence_steps st where st.id = new.step_id) then
        raise exception 'step % does not exist', coalesce(new.step_id::text, 'NULL')
            using errcode = '23503', column = 'step_id', detail = 'field: step_id',
                  hint = 'A variant belongs to a row of drip.sequence_steps.';
    end if;
    new.name := btrim(new.name);
    if new.name is null or new.name = '' or length(new.name) > 100 or new.name ~ '[[:cntrl:]]' then
        raise exception 'variant name must be 1 to 100 characters without control characters'
            using errcode = '22023', column = 'name', detail = 'field: name',
                  hint = 'A short label the report shows, such as ''B'' or ''shorter subject''.';
    end if;
    if new.weight is null or new.weight < 1 then
        raise exception 'weight must be 1 or more, not %', coalesce(new.weight::text, 'NULL')
            using errcode = '22023', column = 'weight', detail = 'field: weight',
                  hint = 'Contacts are split in proportion to the weights (the step''s own content: control_weight).';
    end if;
    if new.subject is null or btrim(new.subject) = '' then
        raise exception 'subject must not be empty'
            using errcode = '22023', column = 'subject', detail = 'field: subject',
                  hint = 'Give the variant a subject line.';
    end if;
    if new.subject ~ '[[:cntrl:]\u2028\u2029]' or length(new.subject) > 500 then
        raise exception 'subject must be one line of at most 500 characters'
            using errcode = '22023', column = 'subject', detail = 'field: subject',
                  hint = 'Remove line breaks and control characters from the subject.';
    end if;
    if new.html_body is null or btrim(new.html_body) = '' or length(new.html_body) > 1000000 then
        raise exception 'html_body must be 1 to 1000000 characters'
            using errcode = '22023', column = 'html_body', detail = 'field: html_body',
                  hint = 'Give the variant an HTML body.';
    end if;
    perform drip.check_merge_tags(new.subject, 'subject');
    perform drip.check_merge_tags(new.html_body, 'html_body');
    return new;
end
$$;
create or replace trigger step_variants__validate
    before insert or update on drip.step_variants
    for each row execute function drip.tg_step_variants__validate();
