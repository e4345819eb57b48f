-- table drip.step_variants
-- Another content for a step, in a test (behaviour 25): each contact gets the step's own content
-- (sequence_steps.control_weight) or one active variant, in proportion to the weights, always the
-- same for the same contact and step (drip.arm_bucket). Rendered by the same code as a step: the
-- same derived columns, kept per save. drip.promote_variant makes one the step's content.
create table drip.step_variants (
    id bigint generated always as identity primary key,
    step_id bigint not null,
    name text not null,
    subject text not null,
    html_body text not null,
    weight int not null default 1 constraint step_variants_weight_check check (weight > 0),
    active boolean not null default true,
    -- as drip.sequence_steps: how the templates write their tags, the text part, tracked links
    subject_merge text[] not null generated always as (drip.merge_forms(subject)) stored,
    body_merge text[] not null generated always as (drip.merge_forms(html_body)) stored,
    text_body text not null generated always as (drip.html_to_text(html_body)) stored,
    text_merge text[] not null generated always as (drip.merge_forms(drip.html_to_text(html_body))) stored,
    tracked_html text not null generated always as ((drip.link_template(html_body)).marked) stored,
    tracked_merge text[] not null generated always as (drip.merge_forms((drip.link_template(html_body)).marked)) stored,
    tracked_text text not null generated always as (drip.html_to_text((drip.link_template(html_body)).marked)) stored,
    tracked_text_merge text[] not null
        generated always as (drip.merge_forms(drip.html_to_text((drip.link_template(html_body)).marked))) stored,
    link_hrefs text[] not null generated always as ((drip.link_template(html_body)).hrefs) stored,
    field_tags boolean not null generated always as (
        subject ~* '\{\{\s*(attribute|event)\.' or html_body ~* '\{\{\s*(attribute|event)\.') stored,
    created_at timestamptz not null default now()
);
create index step_variants_step on drip.step_variants (step_id);
