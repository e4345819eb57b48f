-- trigger drip.tg_sequences__validate() on drip.sequences, before insert or update, per row
-- Refuses an empty name, an unknown trigger type or a trigger value it cannot match, an unknown
-- time zone, a half or backwards send window, weekdays outside 1-7, a malformed goal or re-entry
-- rule, a malformed entry or exit condition (drip.check_condition), a segment without its
-- entry_condition, an unknown message class or topic. Writes the zone as the server names it, the
-- weekdays sorted, and what each condition reads (entry_sources, exit_sources).
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
    new.time_zone := coalesce(drip.check_time_zone(new.time_zone, 'time_zone'), 'UTC');
    if (new.send_window_start is null) <> (new.send_window_end is null) then
        raise exception 'a send window needs both its start and its end'
            using errcode = '22023',
                  column = case when new.send_window_start is null then 'send_window_start' else 'send_window_end' end,
                  detail = format('field: %s',
                                  case when new.send_window_start is null then 'send_window_start' else 'send_window_end' end),
                  hint = 'Set both, e.g. 09:00 and 17:00, or neither for any hour.';
    end if;
    if new.send_window_start >= new.send_window_end then
        raise exception 'the send window must end after it starts, not at % after %', new.send_window_end,
                new.send_window_start
            using errcode = '22023', column = 'send_window_end', detail = 'field: send_window_end',
                  hint = 'Windows are [start, end) on one local day, e.g. 09:00 to 17:00; there are no overnight windows.';
    end if;
    if new.send_days is not null then
        if cardinality(new.send_days) = 0 or array_position(new.send_days, null) is not null
           or exists (select 1 from unnest(new.send_days) d where d not between 1 and 7) then
            raise exception 'send_days must list ISO weekdays from 1 (Monday) to 7 (Sunday), not %', new.send_days
                using errcode = '22023', column = 'send_days', detail = 'field: send_days',
                      hint = 'For example {1,2,3,4,5} for weekdays, or NULL for every day.';
        end if;
        new.send_days := (select array_agg(distinct d order by d) from unnest(new.send_days) d);
    end if;
    if new.exit_trigger_value is not null and new.exit_trigger_type is null then
        raise exception 'a goal value needs a goal type'
            using errcode = '22023', column = 'exit_trigger_type', detail = 'field: exit_trigger_type',
                  hint = 'Set exit_trigger_type (tag_added, group_added, anniversary, after_purchase or after_first_click).';
    end if;
    if new.exit_trigger_type is not null then
        perform drip.check_trigger(new.exit_trigger_type, new.exit_trigger_value, 'exit_');
    end if;
    if new.reentry is null or new.reentry not in ('after_completion', 'never') then
        raise exception 'reentry must be after_completion or never, not %', coalesce(quote_literal(new.reentry), 'NULL')
            using errcode = '22023', column = 'reentry', detail = 'field: reentry',
                  hint = 'after_completion: enroll again once the previous enrollment ended; never: at most once, ever.';
    end if;
    if new.entry_condition = 'null'::jsonb then
        new.entry_condition := null;
    end if;
    if new.exit_condition = 'null'::jsonb then
        new.exit_condition := null;
    end if;
    if new.trigger_type = 'segment' and new.entry_condition is null then
        raise exception 'a segment sequence needs an entry_condition: who belongs to the segment'
            using errcode = '22023', column = 'entry_condition', detail = 'field: entry_condition',
                  hint = 'For example {"attribute": "plan", "equals": "pro"}.';
    end if;
    if new.message_class is null or new.message_class not in ('marketing', 'transactional') then
        raise exception 'message_class must be marketing or transactional, not %',
                coalesce(quote_literal(left(new.message_class, 60)), 'NULL')
            using errcode = '22023', column = 'message_class', detail = 'field: message_class',
                  hint = 'transactional: receipts and account mail, sent even to unsubscribed contacts and never capped.';
    end if;
    if new.topic_id is not null and not exists (select from drip.topics t where t.id = new.topic_id) then
        raise exception 'topic % does not exist', new.topic_id
            using errcode = '23503', column = 'topic_id', detail = 'field: topic_id',
                  hint = 'Insert the topic into drip.topics first, or leave topic_id NULL for the general list.';
    end if;
    if new.holdout_percent is null or new.holdout_percent < 0 or new.holdout_percent > 50 then
        raise exception 'holdout_percent must be between 0 and 50, not %', coalesce(new.holdout_percent::text, 'NULL')
            using errcode = '22023', column = 'holdout_percent', detail = 'field: holdout_percent',
                  hint = 'The share of contacts sent nothing, to compare with (0: none; 10 is common).';
    end if;
    if new.priority is null then
        raise exception 'priority must be a whole number'
            using errcode = '22023', column = 'priority', detail = 'field: priority',
                  hint = 'Higher goes first when a frequency cap allows only some of a contact''s mail; 0 by default.';
    end if;
    new.entry_sources := drip.check_condition(new.entry_condition, 'entry_condition', false);
    new.exit_sources := drip.check_condition(new.exit_condition, 'exit_condition', true);
    new.updated_at := now();
    return new;
end
$$;
create or replace trigger sequences__validate
    before insert or update on drip.sequences
    for each row execute function drip.tg_sequences__validate();
