-- trigger drip.tg_sequences__protect() on drip.sequences, before delete, per row
-- A sequence with enrollments is history: deleting it is refused (deactivate it instead).
create or replace function drip.tg_sequences__protect() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (select 1 from drip.enrollments e where e.sequence_id = old.id) then
        raise exception 'sequence % has enrollments and cannot be deleted', old.id
            using errcode = '23503', column = 'id', detail = 'field: id',
                  hint = 'Deactivate it instead: update drip.sequences set active = false where id = ...';
    end if;
    return old;
end
$$;
revoke all on function drip.tg_sequences__protect() from public;
create or replace trigger sequences__protect
    before delete on drip.sequences
    for each row execute function drip.tg_sequences__protect();
