-- trigger drip.tg_sequences__validate() on drip.sequences, before insert or update, per row
-- Refuses an empty name, an unknown trigger type or a trigger value it cannot match.
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
    new.updated_at := now();
    return new;
end
$$;
create or replace trigger sequences__validate
    before insert or update on drip.sequences
    for each row execute function drip.tg_sequences__validate();
