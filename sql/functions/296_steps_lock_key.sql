-- drip.steps_lock_key() returns bigint
-- The advisory lock that dispatch batches take shared and drip.save_steps takes exclusive, so
-- that no batch reads steps while a save renumbers them and moves enrollments with them.
create or replace function drip.steps_lock_key() returns bigint
language sql immutable parallel safe
return 7142009001;
