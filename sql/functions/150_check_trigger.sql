-- drip.check_trigger(p_trigger_type text, p_trigger_value text, p_prefix text default '') returns void
-- Refuses an unknown trigger type or a trigger value that type cannot match. p_prefix names the
-- pair in errors: '' for trigger_type/trigger_value, 'exit_' for a sequence's goal.
create or replace function drip.check_trigger(p_trigger_type text, p_trigger_value text, p_prefix text default '')
returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_trigger_type is null or p_trigger_type not in
        ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click') then
        raise exception 'unknown trigger type: %', coalesce(quote_literal(left(p_trigger_type, 60)), 'NULL')
            using errcode = '22023', column = p_prefix || 'trigger_type', detail = 'field: ' || p_prefix || 'trigger_type',
                  hint = 'Use tag_added, group_added, anniversary, after_purchase or after_first_click.';
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
    if p_trigger_type in ('tag_added', 'after_purchase')
       and (btrim(p_trigger_value) = '' or p_trigger_value ~ '[[:cntrl:]]' or length(p_trigger_value) > 200) then
        raise exception 'malformed % trigger value: %', p_trigger_type, quote_literal(left(p_trigger_value, 60))
            using errcode = '22023', column = p_prefix || 'trigger_value', detail = 'field: ' || p_prefix || 'trigger_value',
                  hint = 'Give a non-empty name without control characters (at most 200), or NULL to match any.';
    end if;
end
$$;
