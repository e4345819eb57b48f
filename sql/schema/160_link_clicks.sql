-- table drip.link_clicks
-- Clicks on links in mailings; a contact's first click in a mailing fires after_first_click.
create table drip.link_clicks (
    id bigint generated always as identity primary key,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    mailing_id bigint not null,
    url text,
    clicked_at timestamptz not null default now()
);
create index link_clicks_contact_mailing on drip.link_clicks (contact_id, mailing_id, id);
