-- drip.check_trigger(p_trigger_type text, p_trigger_value text, p_prefix text default '') returns void
-- Refuses an unknown trigger type or a trigger value that type cannot match. p_prefix names the
-- pair in errors: '' for trigger_type/trigger_value, 'exit_' for a sequence's goal (which may be
-- an event, never a segment: exit_condition is the segment-like goal).
create or replace function drip.check_trigger(p_trigger_type text, p_trigger_value text, p_prefix text default '')
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_trigger_type is null or p_trigger_type not in
        ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click', 'event', 'segment')
       or (p_trigger_type = 'segment' and p_prefix <> '') then
        raise exception 'unknown % type: %', case when p_prefix = '' then 'trigger' else 'goal' end,
                coalesce(quote_literal(left(p_trigger_type, 60)), 'NULL')
            using errcode = '22023', column = p_prefix || 'trigger_type', detail = 'field: ' || p_prefix || 'trigger_type',
                  hint = case when p_prefix = '' then 'Use tag_added, group_added, anniversary, after_purchase, after_first_click, event or segment.'
                              else 'Use tag_added, group_added, anniversary, after_purchase, after_first_click or event (exit_condition ends an enrollment by a condition).' end;
    end if;
    if p_trigger_type = 'segment' and p_trigger_value is not null then
        raise exception 'a segment sequence has no trigger value: who belongs is its entry_condition'
            using errcode = '22023', column = 'trigger_value', detail = 'field: trigger_value',
                  hint = 'Leave trigger_value NULL and set entry_condition.';
    end if;
    if p_trigger_type = 'event' and p_trigger_value is null then
        raise exception 'an event % needs the event name as its value', case when p_prefix = '' then 'trigger' else 'goal' end
            using errcode = '22023', column = p_prefix || 'trigger_value', detail = 'field: ' || p_prefix || 'trigger_value',
                  hint = format('Set %strigger_value to the name of the event, such as ''cart_abandoned''.', p_prefix);
    end if;
    if p_trigger_type = 'anniversary' and (p_trigger_value is null or p_trigger_value not in ('birthday', 'created')) then
        raise exception 'anniversary trigger value must be birthday or created, not %',
                coalesce(quote_literal(left(p_trigger_value, 60)), 'NULL')
            using errcode = '22023', column = p_prefix || 'trigger_value', detail = 'field: ' || p_prefix || 'trigger_value',
                  hint = format('Set %strigger_value to ''birthday'' (contacts.birthday) or ''created'' (contacts.created_at).', p_prefix);
    end if;
    if (p_trigger_type = 'group_added' and p_trigger_value !~ '^[0-9]{1,18}$')
       or (p_trigger_type = 'after_first_click' and p_trigger_value !~ '^([0-9]{1,18}|step:[0-9]{1,18})$') then
        raise exception '% trigger value must be a % id, not %', p_trigger_type,
                case p_trigger_type when 'group_added' then 'group' else 'mailing' end,
                quote_literal(left(p_trigger_value, 60))
            using errcode = '22023', column = p_prefix || 'trigger_value', detail = 'field: ' || p_prefix || 'trigger_value',
                  hint = case p_trigger_type when 'group_added' then 'Give the id as digits, such as ''42'', or NULL to match any.'
                              else 'Give a mailing id as digits (''42''), step:ID for clicks in the mail of one of pgdrip''s steps (''step:7''), or NULL for any.' end;
    end if;
    if p_trigger_type in ('tag_added', 'after_purchase', 'event')
       and (btrim(p_trigger_value) = '' or p_trigger_value ~ '[[:cntrl:]]' or length(p_trigger_value) > 200) then
        raise exception 'malformed % trigger value: %', p_trigger_type, quote_literal(left(p_trigger_value, 60))
            using errcode = '22023', column = p_prefix || 'trigger_value', detail = 'field: ' || p_prefix || 'trigger_value',
                  hint = 'Give a non-empty name without control characters (at most 200)'
                         || case when p_trigger_type = 'event' then '.' else ', or NULL to match any.' end;
    end if;
end
$$;
