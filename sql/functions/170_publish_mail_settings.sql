-- drip.publish_mail_settings(p_settings jsonb, p_published_by text default null, p_partial boolean default false) returns void
-- Stores what the dispatcher renders into every message (see drip.mail_settings). A runner calls
-- it when it starts with all its PGDRIP_* settings (a missing key clears that setting); `pgdrip
-- serve` calls it with p_partial for the return path only (public_url and secret), leaving the
-- rest. A bad setting is refused there, at start (SQLSTATE 22023, COLUMN naming the setting),
-- never message by message. Keys: brand_header, brand_footer, unsubscribe_url,
-- unsubscribe_secret, public_url, secret, unsubscribe_mailto, from_address.
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
                    'unsubscribe_mailto', 'from_address');
    if v_unknown is not null then
        raise exception 'unknown mail setting(s): %', v_unknown
            using errcode = '22023', column = 'p_settings', detail = 'field: p_settings',
                  hint = 'Use brand_header, brand_footer, unsubscribe_url, unsubscribe_secret, public_url, secret, '
                         'unsubscribe_mailto and from_address.';
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
    if (v_public is null) <> (v_link_secret is null) then
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
    if v_mailto is not null then
        perform drip.check_email(v_mailto, 'unsubscribe_mailto');
    end if;

    -- the keys computed first: Citus refuses functions that are not IMMUTABLE inside CASE
    v_link_key := drip.hmac_pads(convert_to(v_link_secret, 'UTF8'));
    v_unsubscribe_key := case when v_url is not null then drip.hmac_pads(convert_to(v_secret, 'UTF8')) end;
    if p_partial then
        update drip.mail_settings
        set public_url = case when p_settings ? 'public_url' then v_public else public_url end,
            link_key = case when p_settings ? 'secret' then v_link_key else link_key end,
            published_at = now(), published_by = p_published_by;
        return;
    end if;
    update drip.mail_settings
    set brand_header = v_header,
        brand_footer = v_footer,
        unsubscribe_url = v_url,
        unsubscribe_key = v_unsubscribe_key,
        public_url = v_public,
        link_key = v_link_key,
        unsubscribe_mailto = v_mailto,
        sender_domain = lower(substring(v_from from '@([^@>[:space:]]+)>?[[:space:]]*$')),
        published_at = now(),
        published_by = p_published_by;
end
$$;
comment on function drip.publish_mail_settings(jsonb, text, boolean) is
    'Stores the branding, unsubscribe and tracking settings every later message is rendered with.';
