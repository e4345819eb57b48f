-- trigger drip.tg_contacts__validate() on drip.contacts, before insert or update, per row
-- Refuses a malformed email, name or time zone with an error naming the field; writes the zone as
-- the server names it.
create or replace function drip.tg_contacts__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.check_email(new.email, 'email');
    if length(new.first_name) > 200 or length(new.last_name) > 200
       or new.first_name ~ '[[:cntrl:]]' or new.last_name ~ '[[:cntrl:]]' then
        raise exception 'malformed name on contact %', new.email
            using errcode = '22023',
                  column = case when length(new.first_name) > 200 or new.first_name ~ '[[:cntrl:]]'
                                then 'first_name' else 'last_name' end,
                  detail = format('field: %s', case when length(new.first_name) > 200 or new.first_name ~ '[[:cntrl:]]'
                                then 'first_name' else 'last_name' end),
                  hint = 'Names are at most 200 characters, without control characters.';
    end if;
    new.time_zone := drip.check_time_zone(new.time_zone, 'time_zone');
    return new;
end
$$;
create or replace trigger contacts__validate
    before insert or update of email, first_name, last_name, time_zone on drip.contacts
    for each row execute function drip.tg_contacts__validate();

-- trigger drip.tg_contacts__validate_attributes() on drip.contacts, before insert or update of attributes, per row
-- Refuses attributes that are not a JSON object (or larger than 1 MB), naming the column. The
-- WHEN clause keeps good rows from calling the function at all.
create or replace function drip.tg_contacts__validate_attributes() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    raise exception 'contact attributes must be a JSON object of at most 1 MB, not %', left(new.attributes::text, 60)
        using errcode = '22023', column = 'attributes', detail = 'field: attributes',
              hint = 'For example {"plan": "pro", "seats": 12}; {} for none.';
end
$$;
create or replace trigger contacts__validate_attributes
    before insert or update of attributes on drip.contacts
    for each row
    when (jsonb_typeof(new.attributes) <> 'object' or pg_column_size(new.attributes) > 1048576)
    execute function drip.tg_contacts__validate_attributes();
