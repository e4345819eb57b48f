-- table drip.contact_tags
-- A contact carries a tag; inserting a row fires tag_added.
create table drip.contact_tags (
    contact_id bigint not null references drip.contacts (id) on delete cascade,
    tag_id bigint not null references drip.tags (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (contact_id, tag_id)
);
create index contact_tags_tag on drip.contact_tags (tag_id);
