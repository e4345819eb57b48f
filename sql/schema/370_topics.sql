-- table drip.topics
-- What a marketing sequence's mail is about ('Product tips', 'Events'), so that a contact can leave
-- one topic without leaving all mail (behaviour 23). Each topic's mail has a List-Id of its own.
-- The name is unique case-insensitively.
create table drip.topics (
    id bigint generated always as identity primary key,
    name text not null,
    description text,
    created_at timestamptz not null default now()
);
create unique index topics_name_key on drip.topics (lower(name));
