-- table drip.mail_settings
-- What the dispatcher renders around every message body: branding and the unsubscribe link.
-- One row, written by drip.publish_mail_settings when a runner or `pgdrip serve` starts (only
-- the PGDRIP_* settings it was given), read by the dispatcher and by drip.preview_step, so that
-- a preview and the sent message are rendered in one place. Holds HMAC keys: no role but the
-- runner's may read it.
create table drip.mail_settings (
    singleton boolean primary key default true constraint mail_settings_singleton check (singleton),
    brand_header text not null default '',
    brand_footer text not null default '',
    -- a URL template with {contact_id} and {token}, served by the user (PGDRIP_UNSUBSCRIBE_URL)
    unsubscribe_url text,
    -- drip.hmac_pads of PGDRIP_UNSUBSCRIBE_SECRET
    unsubscribe_key bytea[],
    -- the return path (pgdrip serve): PGDRIP_PUBLIC_URL, and the keys of its links: drip.hmac_pads
    -- of PGDRIP_SECRET (the pair that signs), then those of every older secret that still
    -- verifies (PGDRIP_OLD_SECRETS, and each secret a newer one replaced), pair after pair
    public_url text,
    link_key bytea[],
    -- PGDRIP_UNSUBSCRIBE_MAILTO: a second List-Unsubscribe target
    unsubscribe_mailto text,
    -- the domain of PGDRIP_FROM: Message-IDs and List-Ids are made under it
    sender_domain text,
    published_at timestamptz not null default now(),
    published_by text
);
insert into drip.mail_settings default values;
