-- drip.link_token(p_key bytea[], p_kind text, p_contact_id bigint, p_enrollment_id bigint, p_step_id bigint, p_link_no integer) returns text
-- drip.read_token(p_key bytea[], p_token text, out kind text, out contact_id bigint, out enrollment_id bigint, out step_id bigint, out link_no integer)
-- The tokens in tracked links ('c', with the link's number; 0 is the honeypot) and one-click
-- unsubscribe links ('u'): which contact, enrollment and step the message was, and a 128-bit
-- HMAC-SHA256 under the key of PGDRIP_SECRET (drip.mail_settings.link_key), as base64url. Made
-- and checked in SQL, so any PostgreSQL (the embedded one has no pgcrypto) and any process with
-- the database can serve them. p_key holds one or more keys (drip.hmac_pads pairs, one after
-- the other): link_token signs with the first, read_token accepts a token that any of them made,
-- so mail signed before the secret was rotated keeps working. read_token returns NULLs for
-- anything else: wrong length or alphabet, a flipped bit, another kind, a key it does not hold.
-- link_token is inlinable.
create or replace function drip.link_token(
    p_key bytea[], p_kind text, p_contact_id bigint, p_enrollment_id bigint, p_step_id bigint, p_link_no integer
) returns text
language sql immutable parallel safe
return pg_catalog.translate(pg_catalog.rtrim(pg_catalog.encode(
    pg_catalog.decode(p_kind, 'escape') OPERATOR(pg_catalog.||) pg_catalog.int8send(p_contact_id)
        OPERATOR(pg_catalog.||) pg_catalog.int8send(p_enrollment_id) OPERATOR(pg_catalog.||) pg_catalog.int8send(p_step_id)
        OPERATOR(pg_catalog.||) pg_catalog.int2send(p_link_no::smallint)
    OPERATOR(pg_catalog.||) pg_catalog.substr(drip.hmac_sha256(p_key,
        pg_catalog.decode(p_kind, 'escape') OPERATOR(pg_catalog.||) pg_catalog.int8send(p_contact_id)
        OPERATOR(pg_catalog.||) pg_catalog.int8send(p_enrollment_id) OPERATOR(pg_catalog.||) pg_catalog.int8send(p_step_id)
        OPERATOR(pg_catalog.||) pg_catalog.int2send(p_link_no::smallint)), 1, 16),
    'base64'), '='), '+/', '-_');

create or replace function drip.read_token(
    p_key bytea[], p_token text,
    out kind text, out contact_id bigint, out enrollment_id bigint, out step_id bigint, out link_no integer
)
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_raw bytea;
    v_valid boolean := false;
begin
    if p_key is null or p_token is null or p_token !~ '^[A-Za-z0-9_-]{58}$' then
        return;
    end if;
    v_raw := decode(translate(p_token, '-_', '+/') || '==', 'base64');
    -- the last character carries 2 bits base64 ignores: only the one spelling of the bytes counts
    if length(v_raw) <> 43 or get_byte(v_raw, 0) not in (99, 117)  -- 'c', 'u'
       or translate(rtrim(encode(v_raw, 'base64'), '='), '+/', '-_') <> p_token then
        return;
    end if;
    -- the signing key first (almost every token), then the older ones
    for i in 0 .. cardinality(p_key) / 2 - 1 loop
        if substr(drip.hmac_sha256(p_key[2 * i + 1 : 2 * i + 2], substr(v_raw, 1, 27)), 1, 16) = substr(v_raw, 28, 16)
        then
            v_valid := true;
            exit;
        end if;
    end loop;
    if not v_valid then
        return;
    end if;
    kind := chr(get_byte(v_raw, 0));
    contact_id := ('x' || encode(substr(v_raw, 2, 8), 'hex'))::bit(64)::bigint;
    enrollment_id := ('x' || encode(substr(v_raw, 10, 8), 'hex'))::bit(64)::bigint;
    step_id := ('x' || encode(substr(v_raw, 18, 8), 'hex'))::bit(64)::bigint;
    link_no := ('x' || encode(substr(v_raw, 26, 2), 'hex'))::bit(16)::integer;
end
$$;
