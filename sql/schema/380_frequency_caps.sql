-- table drip.frequency_caps
-- Each row limits the marketing mail one contact is sent: at most max_messages in any `per`
-- (behaviour 24). Dispatch defers, never skips, what a cap holds back. No rows: no cap.
create table drip.frequency_caps (
    id bigint generated always as identity primary key,
    max_messages int not null constraint frequency_caps_max_messages_check check (max_messages > 0),
    per interval not null constraint frequency_caps_per_check check (per > interval '0')
);
