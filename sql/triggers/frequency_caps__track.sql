-- trigger drip.tg_frequency_caps__track() on drip.frequency_caps, after insert, update or delete, per statement
-- Caps count from drip.contact_sends, which is kept only while there are caps: the first cap (or
-- a longer period) fills it from the outbox, the last one's deletion empties it
-- (drip.track_sends, for each shard on this node: on Citus this fires on every node's placement).
create or replace function drip.tg_frequency_caps__track() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform drip.track_sends(shard) from drip.local_shards('contact_sends') shard;
    return null;
end
$$;
revoke all on function drip.tg_frequency_caps__track() from public;
create or replace trigger frequency_caps__track
    after insert or update or delete on drip.frequency_caps
    for each statement execute function drip.tg_frequency_caps__track();
