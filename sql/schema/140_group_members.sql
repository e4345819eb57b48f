-- table drip.group_members
-- A contact belongs to a group; inserting a row fires group_added. References are checked per
-- statement by group_members__check_refs and cascade by contacts__forget and groups__forget.
create table drip.group_members (
    group_id bigint not null,
    contact_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (group_id, contact_id)
);
create index group_members_contact on drip.group_members (contact_id);
