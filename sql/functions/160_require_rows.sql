-- drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
-- The foreign-key check of contact_tags and group_members, done once per statement: locks the
-- referenced rows FOR KEY SHARE, as a foreign key does (a concurrent delete waits, or has
-- already happened and the check fails), and refuses the statement if any id is missing.
-- p_ids must be distinct: the count of rows locked is compared with its length.
create or replace function drip.require_rows(p_table text, p_ids bigint[], p_field text) returns void
language plpgsql volatile
set search_path = ''
as $$
declare
    v_locked bigint;
    v_missing bigint;
begin
    if p_table is null or p_table not in ('contacts', 'tags', 'groups', 'topics') then
        raise exception 'require_rows checks contacts, tags, groups or topics, not %', coalesce(p_table, 'NULL')
            using errcode = '22023', column = 'p_table', detail = 'field: p_table';
    end if;
    if p_table = 'contacts' then
        select count(*) into v_locked from (select from drip.contacts r where r.id = any (p_ids) for key share) l;
    elsif p_table = 'tags' then
        select count(*) into v_locked from (select from drip.tags r where r.id = any (p_ids) for key share) l;
    elsif p_table = 'topics' then
        select count(*) into v_locked from (select from drip.topics r where r.id = any (p_ids) for key share) l;
    else
        select count(*) into v_locked from (select from drip.groups r where r.id = any (p_ids) for key share) l;
    end if;
    if v_locked = coalesce(cardinality(p_ids), 0) then
        return;
    end if;
    -- the slow path, only to name the first missing id
    execute format('select i from unnest($1) i where not exists (select from drip.%I r where r.id = i) limit 1',
                   p_table)
        into v_missing using p_ids;
    raise exception '% % does not exist', rtrim(p_table, 's'), v_missing
        using errcode = '23503', column = p_field, detail = format('field: %s', p_field),
              hint = format('Insert the row into drip.%s first.', p_table);
end
$$;
