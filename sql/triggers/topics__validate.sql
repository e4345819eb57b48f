-- trigger drip.tg_topics__validate() on drip.topics, before insert or update, per row
-- Refuses an empty or malformed name or an overlong description, naming the column.
create or replace function drip.tg_topics__validate() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.name := btrim(new.name);
    if new.name is null or new.name = '' or length(new.name) > 200 or new.name ~ '[[:cntrl:]]' then
        raise exception 'topic name must be 1 to 200 characters without control characters'
            using errcode = '22023', column = 'name', detail = 'field: name',
                  hint = 'Name what the mail is about, such as ''Product tips''.';
    end if;
    if length(new.description) > 2000 then
        raise exception 'topic description must be at most 2000 characters'
            using errcode = '22023', column = 'description', detail = 'field: description',
                  hint = 'One or two sentences: recipients read it on the preference page.';
    end if;
    return new;
end
$$;
create or replace trigger topics__validate
    before insert or update on drip.topics
    for each row execute function drip.tg_topics__validate();

-- trigger drip.tg_topics__protect() on drip.topics, before delete, per row
-- A topic that sequences use cannot be deleted: move them to another topic (or none) first.
create or replace function drip.tg_topics__protect() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if exists (select from drip.sequences s where s.topic_id = old.id) then
        raise exception 'topic % is used by a sequence and cannot be deleted', old.id
            using errcode = '23503', column = 'id', detail = 'field: id',
                  hint = 'Set those sequences'' topic_id to another topic, or to NULL, first.';
    end if;
    return old;
end
$$;
create or replace trigger topics__protect
    before delete on drip.topics
    for each row execute function drip.tg_topics__protect();

-- trigger drip.tg_topics__forget() on drip.topics, after delete, per row
-- Deleting a topic deletes who had left it (on Citus, in the shards on this node: see
-- drip.local_shards).
create or replace function drip.tg_topics__forget() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_shard regclass;
begin
    for v_shard in select * from drip.local_shards('topic_unsubscribes') loop
        execute format('delete from %s u where u.topic_id = $1', v_shard) using old.id;
    end loop;
    return null;
end
$$;
revoke all on function drip.tg_topics__forget() from public;
create or replace trigger topics__forget
    after delete on drip.topics
    for each row execute function drip.tg_topics__forget();
