-- trigger drip.tg_sequence_steps__validate() on drip.sequence_steps, before insert or update, per row
-- Refuses a negative delay, an empty or multi-line subject, an empty body, an unknown merge tag,
-- a malformed key, a malformed send_if (drip.check_condition) or wait_for_event name.
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
    if new.key is not null and new.key !~ '^[[:alnum:]_.:-]{1,100}$' then
        raise exception 'step key must be 1 to 100 letters, digits, _ . : or -, not %', quote_literal(left(new.key, 60))
            using errcode = '22023', column = 'key', detail = 'field: key',
                  hint = 'Give each step a short stable name, such as ''welcome'' or ''day-2''.';
    end if;
    if new.control_weight is null or new.control_weight < 0 then
        raise exception 'control_weight must be 0 or more, not %', coalesce(new.control_weight::text, 'NULL')
            using errcode = '22023', column = 'control_weight', detail = 'field: control_weight',
                  hint = 'The weight of the step''s own content beside its variants (0: only the variants).';
    end if;
    if new.send_if = 'null'::jsonb then
        new.send_if := null;
    end if;
    perform drip.check_condition(new.send_if, 'send_if', true);
    if new.wait_for_event is not null
       and not drip.is_condition_name(to_jsonb(new.wait_for_event)) then
        raise exception 'wait_for_event must be an event name (1 to 200 characters, no control characters)'
            using errcode = '22023', column = 'wait_for_event', detail = 'field: wait_for_event',
                  hint = 'The name of the event that ends the wait, such as ''activated'', or NULL for the delay alone.';
    end if;
    perform drip.check_merge_tags(new.subject, 'subject');
    perform drip.check_merge_tags(new.html_body, 'html_body');
    return new;
end
$$;
create or replace trigger sequence_steps__validate
    before insert or update on drip.sequence_steps
    for each row execute function drip.tg_sequence_steps__validate();
