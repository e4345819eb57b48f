-- table drip.clicks
-- Every request of a tracked link (`pgdrip serve`): which message and link, when, from where,
-- and whether it was judged a bot (bot_reason) or a person. A person's first click in a message
-- is also written to drip.link_clicks, which fires after_first_click.
create table drip.clicks (
    id bigint generated always as identity primary key,
    contact_id bigint not null,
    enrollment_id bigint not null,
    step_id bigint not null,
    -- 1..n: the message's links in order; 0: the honeypot no person sees
    link_no integer not null,
    url text,
    clicked_at timestamptz not null default now(),
    ip inet,
    user_agent text,
    method text not null,
    -- NULL: a person
    bot_reason text,
    -- the web request that recorded it: `pgdrip serve` asks again with the same id after a lost
    -- connection, and drip.record_click then records nothing twice
    request_id uuid
);
create index clicks_message on drip.clicks (contact_id, enrollment_id, step_id, clicked_at);
-- Retention (drip.prune) walks clicks by time: ids are not in time order on Citus.
create index clicks_time on drip.clicks (clicked_at, id);
