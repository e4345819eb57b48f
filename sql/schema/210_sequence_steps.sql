-- table drip.sequence_steps
-- The ordered emails of a sequence; delay_hours counts from the previous send.
create table drip.sequence_steps (
    id bigint generated always as identity primary key,
    sequence_id bigint not null references drip.sequences (id) on delete cascade,
    step_order int not null constraint sequence_steps_step_order_check check (step_order > 0),
    delay_hours numeric not null default 0
        constraint sequence_steps_delay_hours_check check (delay_hours >= 0),
    subject text not null,
    html_body text not null,
    active boolean not null default true,
    -- an identity that survives reordering (`key` in a sequences file); see drip.save_steps
    key text,
    -- how subject and body write their merge tags (see drip.merge_forms), kept for the dispatcher
    subject_merge text[] not null generated always as (drip.merge_forms(subject)) stored,
    body_merge text[] not null generated always as (drip.merge_forms(html_body)) stored,
    -- the text part's template, derived from the HTML once per save (see drip.html_to_text)
    text_body text not null generated always as (drip.html_to_text(html_body)) stored,
    text_merge text[] not null generated always as (drip.merge_forms(drip.html_to_text(html_body))) stored,
    -- the same with every trackable link marked, for tracked mail (see drip.link_template)
    tracked_html text not null generated always as ((drip.link_template(html_body)).marked) stored,
    tracked_merge text[] not null generated always as (drip.merge_forms((drip.link_template(html_body)).marked)) stored,
    tracked_text text not null generated always as (drip.html_to_text((drip.link_template(html_body)).marked)) stored,
    tracked_text_merge text[] not null
        generated always as (drip.merge_forms(drip.html_to_text((drip.link_template(html_body)).marked))) stored,
    link_hrefs text[] not null generated always as ((drip.link_template(html_body)).hrefs) stored,
    -- behaviour 19: a condition to send (NULL: always); behaviour 20: an event that ends the wait
    send_if jsonb,
    wait_for_event text,
    -- whether subject or body has {{attribute.X}} or {{event.X}} tags (drip.render_fields runs only then)
    -- behaviour 25: the weight of the step's own content when it has variants (0: only variants)
    control_weight int not null default 1
        constraint sequence_steps_control_weight_check check (control_weight >= 0),
    field_tags boolean not null generated always as (
        subject ~* '\{\{\s*(attribute|event)\.' or html_body ~* '\{\{\s*(attribute|event)\.') stored,
    unique (sequence_id, step_order)
);
create unique index sequence_steps_key on drip.sequence_steps (sequence_id, key) where key is not null;
