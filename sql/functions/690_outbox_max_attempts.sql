-- drip.outbox_max_attempts() returns integer
-- How many times a row is handed to a sender (temporary failures and leases that ran out both
-- count) before it is failed for good.
create or replace function drip.outbox_max_attempts() returns integer
language sql immutable parallel safe
return 8;
