-- table drip.purchases
-- Purchases; becoming confirmed (once per purchase) fires after_purchase.
create table drip.purchases (
    id bigint generated always as identity primary key,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    product_id text,
    status text not null default 'confirmed'
        constraint purchases_status_check check (status in ('pending', 'confirmed', 'refunded', 'failed')),
    created_at timestamptz not null default now(),
    confirmed_at timestamptz
);
create index purchases_contact on drip.purchases (contact_id);
