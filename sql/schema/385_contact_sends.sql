-- table drip.contact_sends
-- The marketing mail queued to each contact recently, for the caps: one row per outbox row, at the
-- moment dispatch queued it (its p_now). Kept only while drip.frequency_caps has rows (filled from
-- the outbox when the first cap is made, see frequency_caps__track), and pruned to the longest
-- cap's period; a cancelled message is not counted (dispatch looks its outbox row up).
create table drip.contact_sends (
    contact_id bigint not null,
    queued_at timestamptz not null,
    outbox_id bigint not null,
    primary key (contact_id, queued_at, outbox_id)
);
