-- trigger drip.tg_bot_user_agents__validate() on drip.bot_user_agents, before insert or update, per row
-- Refuses a pattern that is not a valid regular expression (it would break every click) or is
-- empty (it would call every click a bot).
create or replace function drip.tg_bot_user_agents__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.pattern is null or btrim(new.pattern) = '' or length(new.pattern) > 200 then
        raise exception 'a scanner pattern must be 1 to 200 characters'
            using errcode = '22023', column = 'pattern', detail = 'field: pattern',
                  hint = 'A case-insensitive regular expression matched against the user agent, e.g. ''mimecast''.';
    end if;
    begin
        perform '' ~* new.pattern;
    exception when invalid_regular_expression then
        raise exception 'not a valid regular expression: %', quote_literal(left(new.pattern, 60))
            using errcode = '22023', column = 'pattern', detail = 'field: pattern',
                  hint = 'Use PostgreSQL regular expression syntax; escape special characters with a backslash.';
    end;
    return new;
end
$$;
create or replace trigger bot_user_agents__validate
    before insert or update on drip.bot_user_agents
    for each row execute function drip.tg_bot_user_agents__validate();
