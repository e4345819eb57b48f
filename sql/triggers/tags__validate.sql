-- trigger drip.tg_tags__validate() on drip.tags and drip.groups, before insert or update, per row
-- Refuses an empty, over-long or control-character name.
create or replace function drip.tg_tags__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.name is null or btrim(new.name) = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]' then
        raise exception '% name must be 1 to 200 characters without control characters', rtrim(tg_table_name, 's')
            using errcode = '22023', column = 'name', detail = 'field: name',
                  hint = 'Give a short readable name.';
    end if;
    return new;
end
$$;
create or replace trigger tags__validate
    before insert or update on drip.tags
    for each row execute function drip.tg_tags__validate();
create or replace trigger groups__validate
    before insert or update on drip.groups
    for each row execute function drip.tg_tags__validate();
