-- table drip.link_clicks
-- Clicks on links in mailings; a contact's first click in a mailing fires after_first_click.
-- Applications write their own; `pgdrip serve` writes a contact's first human click in each
-- message it tracked.
create table drip.link_clicks (
    id bigint generated always as identity primary key,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    mailing_id bigint not null,
    url text,
    clicked_at timestamptz not null default now(),
    -- set when pgdrip recorded the click on one of its own tracked links: the step whose mail
    -- it was (mailing_id is the step id too); matched by after_first_click values 'step:ID'
    step_id bigint
);
create index link_clicks_contact_mailing on drip.link_clicks (contact_id, mailing_id, id);
