-- table drip.contact_tags
-- A contact carries a tag; inserting a row fires tag_added. The references are checked per
-- statement by contact_tags__check_refs (locking like a foreign key, 8x cheaper in bulk) and
-- cascade on delete by contacts__forget and tags__forget.
create table drip.contact_tags (
    contact_id bigint not null,
    tag_id bigint not null,
    created_at timestamptz not null default now(),
    primary key (contact_id, tag_id)
);
create index contact_tags_tag on drip.contact_tags (tag_id);
