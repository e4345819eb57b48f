-- table drip.unsubscribes
-- Each time a contact unsubscribed through pgdrip (`pgdrip serve`'s one-click link), and which
-- message's link it was: the step report's unsubscribes, and the admin page's history.
create table drip.unsubscribes (
    contact_id bigint not null,
    enrollment_id bigint,
    step_id bigint,
    unsubscribed_at timestamptz not null default now(),
    via text not null,
    -- the topic the contact left (behaviour 23); NULL: all mail
    topic_id bigint
);
create index unsubscribes_contact on drip.unsubscribes (contact_id);
