-- trigger drip.tg_sequence_steps__forget() on drip.sequence_steps, after delete, per statement
-- Deleting steps (a sequence deleted with them) deletes their variants (the placement on this
-- node, on Citus, where this fires on every node's placement).
create or replace function drip.tg_sequence_steps__forget() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    execute format('delete from %s v where v.step_id in (select o.id from old_rows o)',
                   drip.local_table(tg_relid, 'step_variants'));
    return null;
end
$$;
create or replace trigger sequence_steps__forget
    after delete on drip.sequence_steps
    referencing old table as old_rows
    for each statement execute function drip.tg_sequence_steps__forget();
