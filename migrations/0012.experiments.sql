-- Third release, experiments (issue 21; contract behaviour 25): variants per step, their weights,
-- the arm each message was, holdout groups, and the counters per arm. The same edits are in
-- sql/schema; tests/migration proves the two agree. Every default keeps today's behaviour.

-- table drip.step_variants
create table drip.step_variants (
    id bigint generated always as identity primary key,
    step_id bigint not null,
    name text not null,
    subject text not null,
    html_body text not null,
    weight int not null default 1 constraint step_variants_weight_check check (weight > 0),
    active boolean not null default true,
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

alter table drip.sequence_steps
    add column control_weight int not null default 1
        constraint sequence_steps_control_weight_check check (control_weight >= 0);
alter table drip.outbox add column variant_id bigint;
alter table drip.sequences
    add column holdout_percent numeric not null default 0
        constraint sequences_holdout_percent_check check (holdout_percent >= 0 and holdout_percent <= 50);
alter table drip.enrollments add column holdout boolean not null default false;
create index enrollments_holdout on drip.enrollments (id) where holdout and status = 'active';
alter table drip.step_stats
    add column variant_id bigint,
    add column held_out bigint not null default 0;
alter table drip.sent_links add column variant_id bigint;
