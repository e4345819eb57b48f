-- trigger drip.tg_purchases__stamp_confirmed() on drip.purchases, before insert or update, per row
-- Stamps confirmed_at the first time a purchase is confirmed, so it enrolls once per purchase.
create or replace function drip.tg_purchases__stamp_confirmed() returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.status = 'confirmed' and new.confirmed_at is null then
        new.confirmed_at := now();
    end if;
    if tg_op = 'UPDATE' and old.confirmed_at is not null then
        new.confirmed_at := old.confirmed_at;
    end if;
    return new;
end
$$;
create or replace trigger purchases__stamp_confirmed
    before insert or update on drip.purchases
    for each row execute function drip.tg_purchases__stamp_confirmed();
