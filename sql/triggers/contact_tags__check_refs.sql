-- trigger drip.tg_contact_tags__check_refs() on drip.contact_tags, after insert or update, per statement
-- The references to contacts and tags, checked once per statement (see drip.require_rows).
-- Named to fire before contact_tags__enroll.
create or replace function drip.tg_contact_tags__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    perform drip.require_rows('tags', (select array_agg(distinct n.tag_id) from new_rows n), 'tag_id');
    return null;
end
$$;
create or replace trigger contact_tags__check_refs_insert
    after insert on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__check_refs();
create or replace trigger contact_tags__check_refs_update
    after update on drip.contact_tags
    referencing new table as new_rows
    for each statement execute function drip.tg_contact_tags__check_refs();
