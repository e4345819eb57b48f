-- drip.check_email(p_email text, p_field text default 'email') returns void
-- Refuses an address that is not a plain addr-spec (no display name, spaces, or controls).
create or replace function drip.check_email(p_email text, p_field text default 'email') returns void
language plpgsql immutable
set search_path = ''
as $$
begin
    if p_email is null
       or length(p_email) > 254
       or p_email !~ '^[^@[:space:][:cntrl:]<>(),;:"\[\]\\]+@[^@[:space:][:cntrl:]<>(),;:"\[\]\\.]+(\.[^@[:space:][:cntrl:]<>(),;:"\[\]\\.]+)+$'
    then
        raise exception 'malformed email address: %', coalesce(quote_literal(left(p_email, 80)), 'NULL')
            using errcode = '22023', column = p_field,
                  detail = format('field: %s', p_field),
                  hint = 'Give a plain address such as ada@example.com (at most 254 characters).';
    end if;
end
$$;
