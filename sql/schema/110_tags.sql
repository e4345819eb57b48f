-- table drip.tags
-- Labels applied to contacts; names unique case-insensitively.
create table drip.tags (
    id bigint generated always as identity primary key,
    name text not null
);
create unique index tags_name_key on drip.tags (lower(name));
