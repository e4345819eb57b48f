-- table drip.sequences
-- A drip campaign and the event that starts it.
create table drip.sequences (
    id bigint generated always as identity primary key,
    name text not null,
    description text,
    active boolean not null default true,
    trigger_type text not null
        constraint sequences_trigger_type_check check (trigger_type in
            ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click')),
    trigger_value text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index sequences_trigger on drip.sequences (trigger_type) where active;
