-- drip.unsubscribe_token(p_key bytea[], p_contact_id bigint) returns text
-- The per-contact token of a user-served PGDRIP_UNSUBSCRIBE_URL: the first 32 hex digits of
-- HMAC-SHA256(PGDRIP_UNSUBSCRIBE_SECRET, 'unsubscribe:<contact_id>'), the same value as
-- pgdrip.settings.unsubscribe_token in Python. Inlinable.
create or replace function drip.unsubscribe_token(p_key bytea[], p_contact_id bigint) returns text
language sql immutable parallel safe
return pg_catalog.left(pg_catalog.encode(drip.hmac_sha256(p_key,
           -- ASCII only, so 'escape' decoding is the UTF-8 bytes; convert_to() is not immutable and
           -- would keep the planner from inlining this
           pg_catalog.decode('unsubscribe:' OPERATOR(pg_catalog.||) p_contact_id::text, 'escape')), 'hex'), 32);

-- drip.unsubscribe_link(p_template text, p_key bytea[], p_contact_id bigint) returns text
-- PGDRIP_UNSUBSCRIBE_URL for one contact ({contact_id} and {token} filled in); NULL without one.
create or replace function drip.unsubscribe_link(p_template text, p_key bytea[], p_contact_id bigint) returns text
language sql immutable parallel safe
return case when p_template is not null then  -- short-circuits in the dispatcher's generic plan
    pg_catalog.replace(pg_catalog.replace(p_template, '{contact_id}', p_contact_id::text),
                       '{token}', drip.unsubscribe_token(p_key, p_contact_id)) end;

-- drip.check_unsubscribe_token(p_secret text, p_contact_id bigint, p_token text) returns boolean
-- For whoever serves PGDRIP_UNSUBSCRIBE_URL: whether p_token is p_contact_id's token under
-- p_secret (PGDRIP_UNSUBSCRIBE_SECRET). It asks drip.unsubscribe_token, which made the link: the
-- token is computed in this one place (pgdrip.settings.verify_unsubscribe_token calls this).
create or replace function drip.check_unsubscribe_token(p_secret text, p_contact_id bigint, p_token text)
returns boolean
language sql stable
set search_path = ''
as $$
    -- compared as hashes, so the time taken says nothing about how much of a guess was right
    select coalesce(pg_catalog.sha256(pg_catalog.convert_to(
               drip.unsubscribe_token(drip.hmac_pads(pg_catalog.convert_to(p_secret, 'UTF8')), p_contact_id), 'UTF8'))
           = pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8')), false)
$$;
