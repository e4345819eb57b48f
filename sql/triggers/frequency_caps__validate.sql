-- trigger drip.tg_frequency_caps__validate() on drip.frequency_caps, before insert or update, per row
-- Refuses a cap that allows nothing or counts over no time, naming the column.
create or replace function drip.tg_frequency_caps__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.max_messages is null or new.max_messages < 1 then
        raise exception 'max_messages must be 1 or more, not %', coalesce(new.max_messages::text, 'NULL')
            using errcode = '22023', column = 'max_messages', detail = 'field: max_messages',
                  hint = 'The most marketing messages one contact may be sent in `per`.';
    end if;
    if new.per is null or new.per <= interval '0' or new.per > interval '366 days' then
        raise exception 'per must be more than 0 and at most 366 days, not %', coalesce(new.per::text, 'NULL')
            using errcode = '22023', column = 'per', detail = 'field: per',
                  hint = 'For example interval ''1 day'' or ''7 days''.';
    end if;
    return new;
end
$$;
create or replace trigger frequency_caps__validate
    before insert or update on drip.frequency_caps
    for each row execute function drip.tg_frequency_caps__validate();
