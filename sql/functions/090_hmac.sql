-- drip.hmac_pads(p_key bytea) returns bytea[]; drip.hmac_sha256(p_pads bytea[], p_message bytea) returns bytea
-- HMAC-SHA256 (RFC 2104) over core sha256(), so tokens are made and checked in SQL on any
-- PostgreSQL 11+ without pgcrypto (the embedded server ships none). hmac_pads derives the inner
-- and outer padded keys once, when a secret is published; hmac_sha256 is then two sha256()
-- calls, inlinable (no SET clause, every name qualified, bound at creation).
create or replace function drip.hmac_pads(p_key bytea) returns bytea[]
language plpgsql immutable parallel safe
set search_path = ''
as $$
declare
    v_key bytea := case when length(p_key) > 64 then sha256(p_key) else p_key end;
    v_inner bytea;
    v_outer bytea;
begin
    if p_key is null then
        return null;
    end if;
    v_key := v_key || decode(repeat('00', 64 - length(v_key)), 'hex');
    v_inner := v_key;
    v_outer := v_key;
    for i in 0 .. 63 loop
        v_inner := set_byte(v_inner, i, get_byte(v_key, i) # 54);   -- 0x36
        v_outer := set_byte(v_outer, i, get_byte(v_key, i) # 92);   -- 0x5c
    end loop;
    return array[v_inner, v_outer];
end
$$;

create or replace function drip.hmac_sha256(p_pads bytea[], p_message bytea) returns bytea
language sql immutable parallel safe
return pg_catalog.sha256(p_pads[2] OPERATOR(pg_catalog.||)
                         pg_catalog.sha256(p_pads[1] OPERATOR(pg_catalog.||) p_message));

comment on function drip.hmac_sha256(bytea[], bytea) is
    'HMAC-SHA256 of p_message under the key whose pads drip.hmac_pads(key) returned.';
