-- table drip.segment_members
-- Who matches each active segment sequence's entry_condition, as of their last write (behaviour
-- 21): entering is a transition from false to true, and this is the "before". Kept by the
-- statement triggers of the tables conditions read, and built whole when a segment is created,
-- activated or its condition changes (drip.build_segment). One row per matching contact and
-- segment.
create table drip.segment_members (
    sequence_id bigint not null,
    contact_id bigint not null,
    since timestamptz not null default now(),
    primary key (sequence_id, contact_id)
);
create index segment_members_contact on drip.segment_members (contact_id);
