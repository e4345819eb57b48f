-- trigger drip.tg_topic_unsubscribes__check_refs() on drip.topic_unsubscribes, after insert or update, per statement
-- The references to contacts and topics, checked once per statement (see drip.require_rows).
-- Named to fire before topic_unsubscribes__stop.
create or replace function drip.tg_topic_unsubscribes__check_refs() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform drip.require_rows('contacts', (select array_agg(distinct n.contact_id) from new_rows n), 'contact_id');
    perform drip.require_rows('topics', (select array_agg(distinct n.topic_id) from new_rows n), 'topic_id');
    return null;
end
$$;
create or replace trigger topic_unsubscribes__check_refs_insert
    after insert on drip.topic_unsubscribes
    referencing new table as new_rows
    for each statement execute function drip.tg_topic_unsubscribes__check_refs();
create or replace trigger topic_unsubscribes__check_refs_update
    after update on drip.topic_unsubscribes
    referencing new table as new_rows
    for each statement execute function drip.tg_topic_unsubscribes__check_refs();
