-- drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
-- The foreign-key check of contact_tags and group_members, done once per statement: locks the
-- referenced rows FOR KEY SHARE, as a foreign key does (a concurrent delete waits, or has
-- already happened and the check fails), then refuses any id that does not exist.
create or replace function drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
language plpgsql volatile
set search_path = ''
as $$
declare
    v_missing bigint;
begin
    if p_table = 'contacts' then
        perform 1 from drip.contacts r where r.id = any (p_ids) for key share;
        select i into v_missing from unnest(p_ids) i
        where not exists (select 1 from drip.contacts r where r.id = i) limit 1;
    elsif p_table = 'tags' then
        perform 1 from drip.tags r where r.id = any (p_ids) for key share;
        select i into v_missing from unnest(p_ids) i
        where not exists (select 1 from drip.tags r where r.id = i) limit 1;
    else
        perform 1 from drip.groups r where r.id = any (p_ids) for key share;
        select i into v_missing from unnest(p_ids) i
        where not exists (select 1 from drip.groups r where r.id = i) limit 1;
    end if;
    if found then
        raise exception '% % does not exist', rtrim(p_table, 's'), v_missing
            using errcode = '23503', column = p_field, detail = format('field: %s', p_field),
                  hint = format('Insert the row into drip.%s first.', p_table);
    end if;
end
$$;
