-- Third release, protecting the audience (issue 20; contract behaviours 23-24): message classes,
-- topics and topic unsubscribes, frequency caps and priority. The same edits are in sql/schema;
-- tests/migration proves the two agree. Every default keeps today's behaviour.

-- table drip.topics
create table drip.topics (
    id bigint generated always as identity primary key,
    name text not null,
    description text,
    created_at timestamptz not null default now()
);
create unique index topics_name_key on drip.topics (lower(name));

-- table drip.topic_unsubscribes
create table drip.topic_unsubscribes (
    contact_id bigint not null,
    topic_id bigint not null,
    unsubscribed_at timestamptz not null default now(),
    via text,
    primary key (contact_id, topic_id)
);

-- table drip.frequency_caps
create table drip.frequency_caps (
    id bigint generated always as identity primary key,
    max_messages int not null constraint frequency_caps_max_messages_check check (max_messages > 0),
    per interval not null constraint frequency_caps_per_check check (per > interval '0')
);

-- table drip.contact_sends
create table drip.contact_sends (
    contact_id bigint not null,
    queued_at timestamptz not null,
    outbox_id bigint not null,
    primary key (contact_id, queued_at, outbox_id)
);

alter table drip.sequences
    add column message_class text not null default 'marketing'
        constraint sequences_message_class_check check (message_class in ('marketing', 'transactional')),
    add column topic_id bigint,
    add column priority int not null default 0;
create index sequences_topic on drip.sequences (topic_id) where topic_id is not null;

-- the step report: steps held back by a cap, and unsubscribes from one topic
alter table drip.step_stats
    add column cap_deferred bigint not null default 0,
    add column topic_unsubscribes bigint not null default 0;

-- the unsubscribe record names the topic left (NULL: all mail)
alter table drip.unsubscribes add column topic_id bigint;
