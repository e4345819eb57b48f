-- drip.publish_mail_settings(p_settings jsonb, p_published_by text default null, p_partial boolean default false) returns void
-- drip.forget_link_secrets(p_secrets text[] default null) returns integer
-- Stores what the dispatcher renders into every message (see drip.mail_settings). With
-- p_partial (what runners and `pgdrip serve` do), only the keys given change: a key that is
-- absent keeps its stored value, and a key given as JSON null is cleared (public_url and secret
-- are given or cleared together). Without it, every key absent is cleared. Either way no key of
-- a link ever sent is lost: a new secret signs from now on and the one it replaces keeps
-- verifying, and clearing the secret stops tracking new mail but keeps its key; only
-- old_secrets (the full list of older secrets that verify; the replaced one is added to it) or
-- drip.forget_link_secrets drop one. A bad setting is refused there, at start (SQLSTATE
-- 22023, COLUMN naming the setting), never message by message. Keys: brand_header,
-- brand_footer, unsubscribe_url, unsubscribe_secret, public_url, secret, old_secrets (an array
-- of strings), unsubscribe_mailto, from_address.
create or replace function drip.publish_mail_settings(
    p_settings jsonb, p_published_by text default null, p_partial boolean default false
) returns void
language plpgsql volatile
set search_path = ''
as $$
declare
    v_unknown text;
    v_url text := nullif(btrim(p_settings ->> 'unsubscribe_url'), '');
    v_secret text := nullif(p_settings ->> 'unsubscribe_secret', '');
    v_header text := coalesce(p_settings ->> 'brand_header', '');
    v_footer text := coalesce(p_settings ->> 'brand_footer', '');
    v_public text := rtrim(nullif(btrim(p_settings ->> 'public_url'), ''), '/');
    v_link_secret text := nullif(p_settings ->> 'secret', '');
    v_mailto text := nullif(regexp_replace(btrim(p_settings ->> 'unsubscribe_mailto'), '^mailto:', '', 'i'), '');
    v_from text := nullif(btrim(p_settings ->> 'from_address'), '');
    -- what changes: with p_partial only the keys given (a JSON null clears), otherwise all
    v_all constant boolean := not coalesce(p_partial, false);
    v_return_path boolean := v_all or p_settings ? 'public_url' or p_settings ? 'secret';
    v_old jsonb := p_settings -> 'old_secrets';
    v_stored bytea[];
    v_new bytea[];
    v_olds bytea[] := '{}'::bytea[];
    v_pair bytea[];
    v_link_key bytea[];
    v_unsubscribe_key bytea[];
begin
    if p_settings is null or jsonb_typeof(p_settings) <> 'object' then
        raise exception 'mail settings must be a JSON object'
            using errcode = '22023', column = 'p_settings', detail = 'field: p_settings',
                  hint = 'Pass {"brand_header": ..., "unsubscribe_url": ...}.';
    end if;
    select string_agg(k, ', ' order by k) into v_unknown
    from jsonb_object_keys(p_settings) k
    where k not in ('brand_header', 'brand_footer', 'unsubscribe_url', 'unsubscribe_secret', 'public_url', 'secret',
                    'old_secrets', 'unsubscribe_mailto', 'from_address');
    if v_unknown is not null then
        raise exception 'unknown mail setting(s): %', v_unknown
            using errcode = '22023', column = 'p_settings', detail = 'field: p_settings',
                  hint = 'Use brand_header, brand_footer, unsubscribe_url, unsubscribe_secret, public_url, secret, '
                         'old_secrets, unsubscribe_mailto and from_address.';
    end if;
    if length(v_header) > 100000 or length(v_footer) > 100000 then
        raise exception 'branding must be at most 100000 characters'
            using errcode = '22023', column = case when length(v_header) > 100000 then 'brand_header' else 'brand_footer' end,
                  detail = 'field: brand_header / brand_footer',
                  hint = 'PGDRIP_BRAND_HEADER and PGDRIP_BRAND_FOOTER name small HTML files.';
    end if;
    if v_url is not null then
        if v_url !~* '^https?://[^[:space:]]+$' or position('{contact_id}' in v_url) = 0
           or position('{token}' in v_url) = 0
           or regexp_replace(v_url, '\{(contact_id|token)\}', '', 'g') ~ '[{}]' then
            raise exception 'malformed unsubscribe URL template: %', quote_literal(left(v_url, 200))
                using errcode = '22023', column = 'unsubscribe_url', detail = 'field: unsubscribe_url',
                      hint = 'PGDRIP_UNSUBSCRIBE_URL is an http(s) URL with {contact_id} and {token} and no other '
                             'braces, e.g. https://example.com/unsubscribe?c={contact_id}&t={token}';
        end if;
        if v_secret is null or length(v_secret) < 16 then
            raise exception 'an unsubscribe URL needs a secret of 16 characters or more'
                using errcode = '22023', column = 'unsubscribe_secret', detail = 'field: unsubscribe_secret',
                      hint = 'Set PGDRIP_UNSUBSCRIBE_SECRET with PGDRIP_UNSUBSCRIBE_URL.';
        end if;
    end if;
    if v_public is not null and v_public !~* '^(https://[^/?#[:space:]@]+|http://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?)(/[^?#[:space:]]*)?$' then
        raise exception 'the public URL must be https (http only for localhost), not %', quote_literal(left(v_public, 200))
            using errcode = '22023', column = 'public_url', detail = 'field: public_url',
                  hint = 'PGDRIP_PUBLIC_URL is where recipients reach `pgdrip serve`, e.g. https://mail.example.com '
                         '(no query or fragment).';
    end if;
    if v_return_path and (v_public is null) <> (v_link_secret is null) then
        raise exception 'the public URL and the secret go together'
            using errcode = '22023', column = case when v_public is null then 'public_url' else 'secret' end,
                  detail = format('field: %s', case when v_public is null then 'public_url' else 'secret' end),
                  hint = 'Set both PGDRIP_PUBLIC_URL and PGDRIP_SECRET (16 characters or more), or neither.';
    end if;
    if length(v_link_secret) < 16 then
        raise exception 'the secret must be 16 characters or more'
            using errcode = '22023', column = 'secret', detail = 'field: secret',
                  hint = 'PGDRIP_SECRET makes links unforgeable: use a long random string.';
    end if;
    if v_old is not null and v_old <> 'null'::jsonb
       and (jsonb_typeof(v_old) <> 'array'
            or exists (select from jsonb_array_elements(v_old) e
                       where jsonb_typeof(e) <> 'string' or length(e #>> '{}') < 16)) then
        raise exception 'old_secrets must be a list of secrets of 16 characters or more'
            using errcode = '22023', column = 'old_secrets', detail = 'field: old_secrets',
                  hint = 'PGDRIP_OLD_SECRETS lists the secrets that were PGDRIP_SECRET before, separated by commas.';
    end if;
    if v_mailto is not null then
        perform drip.check_email(v_mailto, 'unsubscribe_mailto');
    end if;

    -- The keys of links: the new secret signs; every key stored before still verifies (the one
    -- replaced included), unless old_secrets names the older ones anew.
    select m.link_key into v_stored from drip.mail_settings m;
    v_new := drip.hmac_pads(convert_to(v_link_secret, 'UTF8'));
    if v_old is not null and v_old <> 'null'::jsonb then
        -- the replaced signing key, then the secrets listed
        if v_new is not null and v_stored is not null then
            v_olds := v_stored[1:2];
        end if;
        for v_pair in select drip.hmac_pads(convert_to(e, 'UTF8')) from jsonb_array_elements_text(v_old) e loop
            v_olds := v_olds || v_pair;
        end loop;
    elsif v_new is not null then
        v_olds := coalesce(v_stored, '{}');
    else
        v_olds := coalesce(v_stored[3:], '{}');
    end if;
    v_link_key := coalesce(v_new, v_stored[1:2], '{}');
    for i in 0 .. cardinality(v_olds) / 2 - 1 loop
        v_pair := v_olds[2 * i + 1 : 2 * i + 2];
        if not exists (select from generate_series(0, cardinality(v_link_key) / 2 - 1) j
                       where v_link_key[2 * j + 1 : 2 * j + 2] = v_pair) then
            v_link_key := v_link_key || v_pair;
        end if;
    end loop;
    v_link_key := nullif(v_link_key, '{}');
    -- computed first: Citus refuses functions that are not IMMUTABLE inside CASE
    v_unsubscribe_key := case when v_url is not null then drip.hmac_pads(convert_to(v_secret, 'UTF8')) end;

    update drip.mail_settings
    set brand_header = case when v_all or p_settings ? 'brand_header' then v_header else brand_header end,
        brand_footer = case when v_all or p_settings ? 'brand_footer' then v_footer else brand_footer end,
        unsubscribe_url = case when v_all or p_settings ? 'unsubscribe_url' then v_url else unsubscribe_url end,
        unsubscribe_key = case when v_all or p_settings ? 'unsubscribe_url' then v_unsubscribe_key
                               else unsubscribe_key end,
        public_url = case when v_return_path then v_public else public_url end,
        link_key = v_link_key,
        unsubscribe_mailto = case when v_all or p_settings ? 'unsubscribe_mailto' then v_mailto
                                  else unsubscribe_mailto end,
        sender_domain = case when v_all or p_settings ? 'from_address'
                             then lower(substring(v_from from '@([^@>[:space:]]+)>?[[:space:]]*$'))
                             else sender_domain end,
        published_at = now(),
        published_by = p_published_by;
end
$$;
comment on function drip.publish_mail_settings(jsonb, text, boolean) is
    'Stores the branding, unsubscribe and tracking settings every later message is rendered with; keeps every key of a link sent.';

-- drip.forget_link_secrets(p_secrets text[] default null) returns integer
-- Stops older secrets from verifying links (a secret that leaked, say): those given, or every
-- older one when p_secrets is NULL; never the one that signs. Returns how many it forgot. Links
-- signed with a forgotten secret answer 404 from then on.
create or replace function drip.forget_link_secrets(p_secrets text[] default null) returns integer
language plpgsql volatile
set search_path = ''
as $$
declare
    v_stored bytea[];
    v_kept bytea[];
    v_forget bytea[] := '{}'::bytea[];
    v_secret text;
    v_pair bytea[];
begin
    select m.link_key into v_stored from drip.mail_settings m for update;
    if v_stored is null then
        return 0;
    end if;
    foreach v_secret in array coalesce(p_secrets, '{}') loop
        v_forget := v_forget || drip.hmac_pads(convert_to(v_secret, 'UTF8'));
    end loop;
    v_kept := v_stored[1:2];
    for i in 1 .. cardinality(v_stored) / 2 - 1 loop
        v_pair := v_stored[2 * i + 1 : 2 * i + 2];
        if p_secrets is not null
           and not exists (select from generate_series(0, cardinality(v_forget) / 2 - 1) j
                           where v_forget[2 * j + 1 : 2 * j + 2] = v_pair) then
            v_kept := v_kept || v_pair;
        end if;
    end loop;
    update drip.mail_settings set link_key = v_kept;
    return (cardinality(v_stored) - cardinality(v_kept)) / 2;
end
$$;
comment on function drip.forget_link_secrets(text[]) is
    'Stops older link secrets from verifying (all of them when NULL); never the signing one.';
