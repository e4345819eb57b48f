-- drip.arm_bucket(p_contact_id bigint, p_key bigint) returns bigint
-- drip.holdout_share(p_contact_id bigint, p_sequence_id bigint) returns numeric
-- The deterministic split of experiments (behaviour 25): arm_bucket is the first 32 bits of
-- md5('<contact id>:<step id>') as an unsigned number (0 .. 4294967295), so a contact lands in
-- the same arm of a step on every retry, re-enrollment, server and Citus shard, and different
-- steps split independently. A step's arms are laid end to end, its own content first (width
-- control_weight), then its active variants by id (width weight); the contact gets the arm that
-- holds arm_bucket mod the total width. holdout_share is the same hash of
-- 'holdout:<sequence id>:<contact id>' as a share in [0, 100): a contact is held out of a
-- sequence when it is below holdout_percent. md5 is core PostgreSQL (no pgcrypto needed) and
-- fixed by RFC 1321. Inlinable.
create or replace function drip.arm_bucket(p_contact_id bigint, p_key bigint) returns bigint
language sql immutable parallel safe
return ('x' OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.md5(p_contact_id::text OPERATOR(pg_catalog.||) ':'
        OPERATOR(pg_catalog.||) p_key::text), 8))::bit(32)::bigint OPERATOR(pg_catalog.&) 4294967295;

create or replace function drip.holdout_share(p_contact_id bigint, p_sequence_id bigint) returns numeric
language sql immutable parallel safe
return (('x' OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.md5('holdout:' OPERATOR(pg_catalog.||)
        p_sequence_id::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) p_contact_id::text), 8))::bit(32)::bigint
        OPERATOR(pg_catalog.&) 4294967295)::numeric OPERATOR(pg_catalog./) 42949672.96;

-- drip.step_arm(p_step_id bigint, p_contact_id bigint) returns bigint
-- The arm of a step a contact gets (behaviour 25): NULL for the step's own content, else the id
-- of the active variant whose stretch of the arms laid end to end (the step's own content first,
-- control_weight wide, then its active variants by id, each weight wide) holds
-- arm_bucket(contact, step) modulo their total width. The one home of the rule: the dispatcher
-- and drip.preview_step both ask it.
create or replace function drip.step_arm(p_step_id bigint, p_contact_id bigint) returns bigint
language sql stable parallel safe
set search_path = ''
as $$
    select a.id
    from (select v.id, st.control_weight + sum(v.weight) over (order by v.id) as upto,
                 st.control_weight + sum(v.weight) over () as total, st.control_weight
          from drip.step_variants v
          join drip.sequence_steps st on st.id = v.step_id
          where v.step_id = p_step_id and v.active) a
    where drip.arm_bucket(p_contact_id, p_step_id) % a.total >= a.control_weight
      and drip.arm_bucket(p_contact_id, p_step_id) % a.total < a.upto
    order by a.upto
    limit 1
$$;
