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
