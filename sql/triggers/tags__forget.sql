-- trigger drip.tg_tags__forget() on drip.tags, after delete, per statement
-- Deleting a tag removes it from every contact.
create or replace function drip.tg_tags__forget() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    delete from drip.contact_tags t using old_rows d where t.tag_id = d.id;
    return null;
end
$$;
create or replace trigger tags__forget
    after delete on drip.tags
    referencing old table as old_rows
    for each statement execute function drip.tg_tags__forget();
