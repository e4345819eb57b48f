-- roles drip_app, drip_runner, drip_admin and their grants
-- Least privilege: applications write their tables and read sequences; runners dispatch,
-- sweep and work the outbox; admins manage sequences. Nothing is granted to PUBLIC.
do $$
declare
    v_role text;
begin
    foreach v_role in array array['drip_app', 'drip_runner', 'drip_admin'] loop
        if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
            begin
                execute format('create role %I nologin', v_role);
            exception when duplicate_object or unique_violation then
                null;  -- another database of this cluster created it a moment ago
            end;
        end if;
    end loop;
end
$$;

revoke all on all tables in schema drip from public;
revoke all on all functions in schema drip from public;
revoke all on all procedures in schema drip from public;
-- every grant below is made afresh, in this order, on each migrate: an upgraded database ends with
-- the same privileges, listed the same way, as a new one
revoke all on all tables in schema drip from drip_app, drip_runner, drip_admin;
revoke all on all sequences in schema drip from drip_app, drip_runner, drip_admin;
revoke all on all functions in schema drip from drip_app, drip_runner, drip_admin;
revoke all on all procedures in schema drip from drip_app, drip_runner, drip_admin;
grant usage on schema drip to drip_app, drip_runner, drip_admin;

-- pure helpers anyone with schema usage may call
grant execute on function drip.month_day(date), drip.utc_date(timestamptz), drip.html_escape(text),
    drip.merge_forms(text), drip.render_template(text, text[], text, text, text, boolean),
    drip.merge_value(text, boolean), drip.render_merge(text, text, text, text, boolean),
    drip.render_subject(text, text, text, text),
    drip.check_merge_tags(text, text), drip.check_email(text, text), drip.check_trigger(text, text, text),
    drip.require_rows(text, bigint[], text), drip.html_to_text(text), drip.hmac_pads(bytea),
    drip.hmac_sha256(bytea[], bytea), drip.unsubscribe_token(bytea[], bigint), drip.unsubscribe_link(text, bytea[], bigint),
    drip.check_unsubscribe_token(text, bigint, text),
    drip.compose_html(text, text, text, text), drip.compose_text(text, text, text, text),
    drip.is_mailbox_gone(text), drip.outbox_max_attempts(), drip.steps_lock_key(), drip.days_mask(integer[]),
    drip.check_time_zone(text, text), drip.local_instant(timestamp, text),
    drip.window_opening(timestamptz, text, time, time, integer), drip.next_send_time(timestamptz, text, time, time, integer),
    drip.link_template(text), drip.html_unescape(text), drip.link_token(bytea[], text, bigint, bigint, bigint, integer),
    drip.read_token(bytea[], text),
    drip.render_links(text, text, text[], text, text, text, bigint, bigint, bigint, text, bytea[]),
    drip.render_fields(text, jsonb, jsonb, boolean), drip.pick(anyarray, integer[]),
    drip.check_condition(jsonb, text, boolean), drip.check_condition_node(jsonb, text, boolean, text, integer),
    drip.condition_error(text, text, text, text), drip.is_condition_name(jsonb), drip.condition_sql(jsonb, boolean),
    drip.condition_predicate(jsonb, boolean, text, regclass), drip.conditions_read(text),
    drip.local_shards(text), drip.json_text(text, text), drip.arm_bucket(bigint, bigint),
    drip.holdout_share(bigint, bigint), drip.two_proportion_p(bigint, bigint, bigint, bigint),
    drip.step_arm(bigint, bigint)
    to drip_app, drip_runner, drip_admin;
grant select on drip.time_zones to drip_app, drip_runner, drip_admin;
-- where the shards are, on Citus (drip.local_table, drip.route_events): read by triggers and runners
grant select on drip.shard_keys to drip_app, drip_runner, drip_admin;
grant execute on function drip.local_table(regclass, text), drip.is_distributed(), drip.citus_table(text)
    to drip_app, drip_runner, drip_admin;

-- applications: write contact data, read configuration, fire triggers
grant select, insert, update, delete on drip.contacts, drip.tags, drip.contact_tags, drip.groups,
    drip.group_members, drip.purchases, drip.link_clicks, drip.events, drip.topic_unsubscribes to drip_app;
grant select on drip.topics to drip_app;
grant select on drip.sequences, drip.sequence_steps, drip.sequence_overview to drip_app;
grant execute on function drip.fire_trigger(text, bigint, text), drip.enroll_events(text, bigint[], text[], date, bigint[], regclass, text[], bigint[]),
    drip.exit_events(text, bigint[], text[], regclass, text[]),
    drip.route_events(text, bigint[], text[], date, bigint[], boolean, regclass, text[], bigint[]),
    drip.exit_enrollments(bigint[], text, regclass), drip.end_waits(bigint[], text[], text[], timestamptz[], regclass),
    drip.condition_events(text, bigint[], regclass)
    to drip_app;

-- runners: dispatch, sweep, drain
grant select on drip.contacts, drip.sequences, drip.sequence_steps, drip.sweeps, drip.runners,
    drip.status to drip_runner;
-- dispatch judges send_if and exit conditions (drip.judge_batch): what conditions read; and topics
-- and caps (behaviours 23, 24)
grant select on drip.contact_tags, drip.tags, drip.group_members, drip.purchases, drip.events, drip.clicks,
    drip.topics, drip.topic_unsubscribes, drip.frequency_caps, drip.step_variants, drip.variant_report,
    drip.sequence_conversion to drip_runner;
grant select, insert, delete on drip.contact_sends to drip_runner;
-- a permanent "no such mailbox" marks the contact bounced (drip.finish_outbox)
grant update (bounced_at) on drip.contacts to drip_runner;
grant select, update on drip.enrollments to drip_runner;
grant select, insert, update on drip.outbox, drip.sweeps, drip.runners to drip_runner;
-- dispatch gives outbox ids itself (a Citus shard has no identity default)
grant usage on sequence drip.outbox_id_seq to drip_runner;
-- the settings a runner publishes when it starts, and the shared send-rate bucket
grant select, update on drip.mail_settings, drip.send_rate to drip_runner;
-- the step report's counters: written by whoever changes the outbox, folded by the runner
grant select, insert, delete on drip.step_stats to drip_runner;
grant select on drip.step_report to drip_runner;
grant execute on procedure drip.dispatch_due(timestamptz, bigint), drip.anniversary_sweep(date),
    drip.sweep_due(integer, text, date[]),
    drip.prune(interval)
    to drip_runner;
grant execute on function drip.dispatch_batch(timestamptz, integer, timestamptz, bigint), drip.claim_sweep(date, text),
    drip.dispatch_shard(regclass, timestamptz, integer),
    drip.claim_outbox(text, integer, integer), drip.claim_shard(regclass, text, integer, integer),
    drip.finish_outbox(text, bigint[], text, text[]),
    drip.runner_heartbeat(text, text, integer), drip.enroll_events(text, bigint[], text[], date, bigint[], regclass, text[], bigint[]),
    drip.publish_mail_settings(jsonb, text, boolean), drip.take_send_tokens(double precision, integer),
    drip.return_send_tokens(double precision, integer), drip.unsendable(text, bigint[]), drip.sweep_dates(integer),
    drip.exit_events(text, bigint[], text[], regclass, text[]), drip.forecast(timestamptz),
    drip.forecast_shard(regclass, timestamptz), drip.compact_step_stats(),
    drip.prune_outbox_batch(timestamptz, timestamptz, bigint, integer),
    drip.prune_enrollments_batch(timestamptz, bigint, integer),
    drip.prune_clicks_batch(timestamptz, timestamptz, bigint, integer),
    drip.prune_events_batch(timestamptz, timestamptz, bigint, integer), drip.prune_contact_sends(),
    drip.route_events(text, bigint[], text[], date, bigint[], boolean, regclass, text[], bigint[]),
    drip.anniversary_events(date, regclass), drip.judge_batch(bigint[], timestamptz, regclass),
    drip.cap_claim(bigint[], timestamptz, regclass), drip.cap_release(bigint, timestamptz, integer, regclass),
    drip.exit_enrollments(bigint[], text, regclass)
    to drip_runner;

-- admins: everything a runner does, plus sequences and operator actions
grant drip_runner to drip_admin;
grant select, insert, update, delete on drip.sequences, drip.sequence_steps, drip.topics, drip.frequency_caps,
    drip.topic_unsubscribes, drip.step_variants to drip_admin;
grant select on all tables in schema drip to drip_admin;
grant update on drip.contacts to drip_admin;
grant execute on function drip.cancel_enrollment(bigint), drip.retry_outbox(bigint[]),
    drip.create_sequence_from_prefab(text, text, text), drip.preview_step(bigint, bigint),
    drip.fire_trigger(text, bigint, text), drip.save_steps(bigint, jsonb), drip.enroll_matching(bigint),
    drip.promote_variant(bigint), drip.save_variants(bigint, jsonb), drip.forget_link_secrets(text[]) to drip_admin;
-- the web process (`pgdrip serve`): the return path's entry points, and the scanner list
grant execute on function drip.record_click(text, text, inet, text, uuid, boolean),
    drip.unsubscribe_by_token(text, text, text), drip.unsubscribe_target(text), drip.unsubscribe_topics(text)
    to drip_admin;
grant select, insert, update, delete on drip.bot_user_agents to drip_admin;
-- the admin pages (`pgdrip serve`, /admin/): sessions, forms, lists and actions
grant select, insert, update, delete on drip.admin_sessions to drip_admin;
grant insert on drip.unsubscribes to drip_admin;
grant execute on function drip.admin_session_open(text, bytea, text), drip.admin_session(bytea),
    drip.admin_session_close(bytea), drip.prefab(text), drip.save_sequence(bigint, jsonb, jsonb),
    drip.duplicate_sequence(bigint, text), drip.set_sequence_active(bigint, boolean),
    drip.preview_message(text, text, bigint, bigint), drip.check_enrollment_filter(text, integer),
    drip.sequence_enrollments(bigint, text, text, bigint, bigint, integer), drip.count_enrollments(bigint, text, text),
    drip.count_cancellable(bigint, text, text), drip.sequence_defaults(), drip.set_step_active(bigint, boolean),
    drip.cancel_enrollments(bigint, text, text), drip.contact_enrollments(bigint), drip.contact_history(bigint, integer),
    drip.unsubscribe_contact(bigint, text), drip.forecast_summary(timestamptz), drip.failed_messages(bigint, integer)
    to drip_admin;

-- On Citus, dispatch runs on the workers as the caller: the grant on the outbox's id sequence
-- must be there too (Citus does not carry it over to a sequence created by distributing)
do $$
begin
    if drip.is_distributed() then
        perform run_command_on_workers('grant usage on sequence drip.outbox_id_seq to drip_runner');
    end if;
end
$$;
