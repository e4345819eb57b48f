-- table drip.sequences
-- A drip campaign and the event that starts it.
create table drip.sequences (
    id bigint generated always as identity primary key,
    name text not null,
    description text,
    active boolean not null default true,
    trigger_type text not null
        constraint sequences_trigger_type_check check (trigger_type in
            ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click', 'event', 'segment')),
    trigger_value text,
    -- local time (behaviour 10): the zone of contacts without one, and when mail may go out
    time_zone text not null default 'UTC',
    send_window_start time,
    send_window_end time,
    send_days integer[],
    send_days_mask integer generated always as (drip.days_mask(send_days)) stored,
    -- the goal (behaviour 12): this event ends an active enrollment as 'exited'
    exit_trigger_type text
        constraint sequences_exit_trigger_type_check check (exit_trigger_type in
            ('tag_added', 'group_added', 'anniversary', 'after_purchase', 'after_first_click', 'event')),
    exit_trigger_value text,
    -- behaviour 13
    reentry text not null default 'after_completion'
        constraint sequences_reentry_check check (reentry in ('after_completion', 'never')),
    -- conditions (behaviours 21, 22): who belongs to a segment, or who may enter on the event;
    -- and what ends an enrollment early
    entry_condition jsonb,
    exit_condition jsonb,
    -- what each condition reads ('tag', 'group', 'attribute', 'event', 'purchased', 'clicked'),
    -- kept by sequences__validate: a write to anything else never evaluates them
    entry_sources text[],
    exit_sources text[],
    -- behaviour 23: receipts ('transactional') or the rest ('marketing'), and the topic
    message_class text not null default 'marketing'
        constraint sequences_message_class_check check (message_class in ('marketing', 'transactional')),
    topic_id bigint,
    -- behaviour 24: under a cap, a contact's higher-priority mail goes first
    priority int not null default 0,
    -- behaviour 25: the share of contacts (by contact, deterministically) who get no mail, to compare
    holdout_percent numeric not null default 0
        constraint sequences_holdout_percent_check check (holdout_percent >= 0 and holdout_percent <= 50),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index sequences_trigger on drip.sequences (trigger_type) where active;
create index sequences_exit_trigger on drip.sequences (exit_trigger_type) where exit_trigger_type is not null;
create index sequences_topic on drip.sequences (topic_id) where topic_id is not null;
