-- trigger drip.tg_events__validate() on drip.events, before insert or update, per row
-- Refuses an empty or malformed name or key, or a payload that is not a JSON object, naming the
-- column. The WHEN clause keeps good rows from calling the function at all.
create or replace function drip.tg_events__validate() returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_column text := case
        when new.name is null or btrim(new.name) = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]' then 'name'
        when new.key = '' or length(new.key) > 200 or new.key ~ '[[:cntrl:]]' then 'key'
        else 'payload' end;
begin
    raise exception '%', case v_column
            when 'name' then 'event name must be 1 to 200 characters without control characters'
            when 'key' then 'event key must be 1 to 200 characters without control characters, or NULL'
            else 'event payload must be a JSON object of at most 1 MB' end
        using errcode = '22023', column = v_column, detail = 'field: ' || v_column,
              hint = case v_column
                  when 'name' then 'Name what happened, such as ''cart_abandoned''.'
                  when 'key' then 'The key ties related events together, such as a cart id; NULL for none.'
                  else 'For example {"cart_id": "c-17", "total": 42.5}; {} for none.' end;
end
$$;
create or replace trigger events__validate
    before insert or update on drip.events
    for each row
    when (new.name is null or btrim(new.name) = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]'
          or new.key = '' or length(new.key) > 200 or new.key ~ '[[:cntrl:]]'
          or jsonb_typeof(new.payload) <> 'object' or pg_column_size(new.payload) > 1048576)
    execute function drip.tg_events__validate();
