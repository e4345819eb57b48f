-- table drip.groups
-- Named groups of contacts.
create table drip.groups (
    id bigint generated always as identity primary key,
    name text not null
);
