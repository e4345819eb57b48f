-- table drip.group_members
-- A contact belongs to a group; inserting a row fires group_added.
create table drip.group_members (
    group_id bigint not null references drip.groups (id) on delete cascade,
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (group_id, contact_id)
);
create index group_members_contact on drip.group_members (contact_id);
