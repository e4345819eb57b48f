"""Every SQL statement the runner and the CLI send, in one place. Named parameters only."""

# --- migrate -----------------------------------------------------------------
MIGRATE_LOCK = "select pg_advisory_lock(hashtext('pgdrip.migrate'))"
MIGRATE_UNLOCK = "select pg_advisory_unlock(hashtext('pgdrip.migrate'))"
CREATE_SCHEMA = "create schema if not exists drip"
# pgdrip stores text as UTF-8: a database in another encoding (SQL_ASCII, what initdb makes
# without a locale) is refused before anything is written
DATABASE_ENCODING = """
select current_database()::text as name, pg_encoding_to_char(encoding)::text as encoding
  from pg_database where datname = current_database()
"""
HAS_CITUS = "select exists (select from pg_extension where extname = 'citus') as citus"
# DDL on Citus: triggers on distributed tables, objects created on every node at once, and DDL
# after multi-shard work in one transaction
CITUS_DDL_SETTINGS = """
    select set_config('citus.enable_unsafe_triggers', 'on', true),
           set_config('citus.create_object_propagation', 'immediate', true),
           set_config('citus.multi_shard_modify_mode', 'sequential', true)"""
DISTRIBUTE = "select drip.distribute()"

# --- runner ------------------------------------------------------------------
SCHEMA_READY = "select to_regprocedure('drip.dispatch_due(timestamptz, bigint)') is not null as ready"
DISPATCH = "call drip.dispatch_due()"
SWEEP_DUE = "call drip.sweep_due(%(catchup)s, %(runner)s, null)"
HEARTBEAT = "select drip.runner_heartbeat(%(name)s, %(host)s, %(pid)s)"
CLAIM_OUTBOX = "select * from drip.claim_outbox(%(runner)s, %(limit)s, %(lease)s)"
FINISH_OUTBOX = "select drip.finish_outbox(%(runner)s, %(ids)s, %(outcome)s, %(errors)s) as n"
COUNT_FAILED_AMONG = "select count(*) as n from drip.outbox where id = any(%(ids)s) and status = 'failed'"
UNSENDABLE = "select id from drip.unsendable(%(runner)s, %(ids)s) as id"
TAKE_SEND_TOKENS = "select drip.take_send_tokens(%(rate)s, %(want)s) as n"
RETURN_SEND_TOKENS = "select drip.return_send_tokens(%(rate)s, %(n)s)"
# only the keys given change (p_partial): a runner never clears what it was not given
PUBLISH_MAIL_SETTINGS = "select drip.publish_mail_settings(%(settings)s, %(runner)s, true)"
MAIL_SETTINGS = ("select brand_header, brand_footer, unsubscribe_url, public_url, "
                 "cardinality(link_key) / 2 as link_keys, unsubscribe_mailto, sender_domain, published_at, "
                 "published_by from drip.mail_settings")
FORGET_LINK_SECRETS = "select drip.forget_link_secrets() as n"
NEXT_DUE = ("select extract(epoch from min(next_step_due_at) - clock_timestamp()) as seconds from drip.enrollments "
            "where status = 'active' and next_step_due_at > now()")
COMPACT_STEP_STATS = "select drip.compact_step_stats()"
PRUNE = "call drip.prune(%(days)s * interval '1 day')"
LISTEN = ("listen drip_due", "listen drip_outbox")
IS_DISTRIBUTED = "select drip.is_distributed() as distributed"

# --- pgdrip demo: a welcome sequence and three tagged contacts (idempotent) -------------
DEMO_SETUP = (
    # the welcome prefab, saved by drip.save_sequence like any sequence, with a link in its first
    # email so that tracking has something to show
    "select drip.save_sequence(null, (p -> 'sequence') || '{\"name\": \"Welcome series (demo)\"}', "
    "jsonb_set(p -> 'steps', '{0,html_body}', to_jsonb((p #>> '{steps,0,html_body}') || "
    "'<p><a href=\"https://example.com/getting-started\">Get started</a></p>'))) "
    "from drip.prefab('welcome') p "
    "where not exists (select 1 from drip.sequences where name = 'Welcome series (demo)')",
    "insert into drip.tags (name) values ('welcome') on conflict do nothing",
    "insert into drip.contacts (email, first_name) values "
    "('ada@example.com', 'Ada'), ('grace@example.com', 'Grace'), ('alan@example.com', null) "
    "on conflict do nothing",
    "insert into drip.contact_tags (contact_id, tag_id) "
    "select c.id, t.id from drip.contacts c, drip.tags t "
    "where lower(t.name) = 'welcome' and c.email in ('ada@example.com', 'grace@example.com', 'alan@example.com') "
    "on conflict do nothing",
)
DEMO_MAIL = ("select c.email, o.html_body from drip.outbox o join drip.contacts c on c.id = o.contact_id "
             # the contact in the join too: on Citus, enrollments and outbox meet on their shard
             "join drip.enrollments e on e.id = o.enrollment_id and e.contact_id = o.contact_id "
             "join drip.sequences s on s.id = e.sequence_id "
             "where s.name = 'Welcome series (demo)' and o.status = 'sent' order by o.id")
PROBE = "select 1"

# --- operator CLI --------------------------------------------------------------
CANCEL = "select drip.cancel_enrollment(%(id)s) as was_active"
ACTIVE_ENROLLMENT = ("select id from drip.enrollments where sequence_id = %(sequence)s "
                     "and contact_id = %(contact)s and status = 'active'")
CONTACT_ID = ("select id from drip.contacts where (%(key)s ~ '^[0-9]{1,18}$' and id = %(key)s::bigint) "
              "or lower(email) = lower(%(key)s) order by id limit 1")
DISPATCH_AT = "call drip.dispatch_due(coalesce(%(now)s::timestamptz, now()), null)"
SWEEP_ON = "call drip.anniversary_sweep(coalesce(%(day)s::date, (now() at time zone 'UTC')::date))"
SEQUENCES = "select * from drip.sequence_overview order by {order}"
SEQUENCE_SORTS = {"id": "id", "name": "lower(name), id", "trigger": "trigger_type, id",
                  "steps": "step_count desc, id", "enrollments": "active_enrollments desc, id",
                  "status": "active desc, id"}
SEQUENCE = "select * from drip.sequences where id = %(id)s"
SEQUENCE_STEPS = ("select id, step_order, delay_hours, subject, active from drip.sequence_steps "
                  "where sequence_id = %(id)s order by step_order")
SET_SEQUENCE_ACTIVE = "select drip.set_sequence_active(%(id)s, %(active)s) as changed"
SET_STEP_ACTIVE = "select drip.set_step_active(%(id)s, %(active)s) as changed"
PREFAB = "select drip.create_sequence_from_prefab(%(prefab)s, %(name)s, %(value)s) as id"
ENROLLMENTS = """
select e.id, e.sequence_id, e.sequence, e.contact_id, e.contact_email, e.status,
       e.last_step_order_sent, e.next_step_due_at
from drip.enrollment_overview e
where (%(sequence)s::bigint is null or e.sequence_id = %(sequence)s)
  and (%(contact)s::bigint is null or e.contact_id = %(contact)s)
  and (%(status)s::text is null or e.status = %(status)s)
order by e.id
limit %(limit)s
"""
PREVIEW = "select * from drip.preview_step(%(step)s, %(contact)s)"
FORECAST = """
-- the filters inside: on Citus the forecast then runs on the coordinator, its rows one
-- intermediate result (a constant contact id outside would send the whole query to a shard)
with f as materialized (
    select * from drip.forecast(%(until)s) f
    where (%(sequence)s::bigint is null or f.sequence_id = %(sequence)s)
      and (%(contact)s::bigint is null or f.contact_id = %(contact)s)
)
select f.due_at,
       to_char(timezone(coalesce(c.time_zone, s.time_zone), f.due_at), 'YYYY-MM-DD HH24:MI') || ' '
           || coalesce(c.time_zone, s.time_zone) as local_time,
       s.name as sequence, f.step_order, c.email as contact_email,
       f.enrollment_id, f.sequence_id, f.step_id, f.contact_id, coalesce(c.time_zone, s.time_zone) as time_zone
from f
join drip.sequences s on s.id = f.sequence_id
join drip.contacts c on c.id = f.contact_id
order by f.due_at, f.enrollment_id, f.step_order
limit %(limit)s
"""
REPORT = ("select s.name as sequence, r.* from drip.step_report r join drip.sequences s on s.id = r.sequence_id "
          "where %(sequence)s::bigint is null or r.sequence_id = %(sequence)s order by r.sequence_id, r.step_order")
PRUNE_OLDER_THAN = "call drip.prune(%(age)s::interval)"
STATUS = "select * from drip.status"
OUTBOX_LIST = """
select id, enrollment_id, step_id, to_address, subject, status, attempts, created_at, sent_at,
       last_error, message_id
from drip.outbox
where (%(status)s::text is null or status = %(status)s)
order by id desc
limit %(limit)s
"""
RETRY = "select drip.retry_outbox(%(ids)s) as n"

# --- pg_cron --------------------------------------------------------------------
CRON_COMMANDS = {"dispatch": "call drip.dispatch_due()", "sweep": "call drip.sweep_due()",
                 "compact": "select drip.compact_step_stats()", "prune": "call drip.prune()"}
CRON_DATABASE = "select current_setting('cron.database_name', true) as cron_db, current_database() as app_db"
CRON_AVAILABLE = "select exists (select 1 from pg_extension where extname = 'pg_cron') as ok"
CRON_SCHEDULE = "select cron.schedule_in_database(%(name)s, %(schedule)s, %(command)s, %(database)s) as id"
CRON_UNSCHEDULE = "select cron.unschedule(jobid) from cron.job where jobname = %(name)s and database = %(database)s"
CRON_JOBS = ("select jobid, jobname, schedule, command, database from cron.job "
             "where database = %(database)s and jobname like 'pgdrip-%%' order by jobname")

# --- apply (sequences as code) ----------------------------------------------------
SEQUENCES_BY_NAME = "select * from drip.sequences where name = %(name)s order by id"
SAVE_STEPS = "select * from drip.save_steps(%(id)s, %(steps)s)"
SAVE_SEQUENCE = "select drip.save_sequence(%(id)s, %(sequence)s) as id"

# --- pgdrip serve: the return path ---------------------------------------------------
PUBLISH_RETURN_PATH = "select drip.publish_mail_settings(%(settings)s, %(by)s, true)"
RETURN_PATH_READY = ("select public_url is not null and link_key is not null as ready, public_url "
                     "from drip.mail_settings")
RECORD_CLICK = ("select drip.record_click(%(token)s, %(method)s, %(ip)s::inet, %(agent)s, %(request)s, %(again)s) "
                "as url")
# /healthz: the table every click and unsubscribe reads, under a timeout of its own, in the database
HEALTH_TIMEOUT = "select set_config('statement_timeout', %(ms)s, true)"
HEALTH_PROBE = "select count(*) as n from drip.mail_settings"
UNSUBSCRIBE_TARGET = "select * from drip.unsubscribe_target(%(token)s)"
CHECK_UNSUBSCRIBE_TOKEN = "select drip.check_unsubscribe_token(%(secret)s, %(contact)s, %(token)s) as valid"
UNSUBSCRIBE_BY_TOKEN = "select drip.unsubscribe_by_token(%(token)s, %(via)s, %(scope)s) as contact_id"
UNSUBSCRIBE_TOPICS = "select * from drip.unsubscribe_topics(%(token)s)"

# --- pgdrip serve: the admin pages -----------------------------------------------
ADMIN_ROLE = ("select pg_has_role(session_user, 'drip_admin', 'MEMBER') as can, "
              "current_setting('is_superuser') = 'on' as superuser")
SET_ADMIN_ROLE = "set role drip_admin"
SET_STATEMENT_TIMEOUT = "select set_config('statement_timeout', %(ms)s, false)"
ADMIN_SESSION_OPEN = "select drip.admin_session_open(%(user)s, %(hash)s, %(csrf)s)"
ADMIN_SESSION = "select * from drip.admin_session(%(hash)s)"
ADMIN_SESSION_CLOSE = "select drip.admin_session_close(%(hash)s)"
ADMIN_SEQUENCES = ("select * from drip.sequence_list "
                   "where (%(q)s::text is null or name ilike '%%' || %(q)s || '%%') "
                   "and (%(trigger)s::text is null or trigger_type = %(trigger)s) "
                   "order by {order} limit %(limit)s offset %(offset)s")
ADMIN_SEQUENCE_COUNT = ("select count(*) as n from drip.sequences "
                        "where (%(q)s::text is null or name ilike '%%' || %(q)s || '%%') "
                        "and (%(trigger)s::text is null or trigger_type = %(trigger)s)")
ADMIN_SEQUENCE_SORTS = {"name": "lower(name) {dir}, id", "trigger": "trigger_type {dir}, lower(name), id",
                        "steps": "step_count {dir}, id", "enrollments": "active_enrollments {dir}, id",
                        "status": "active {dir}, lower(name), id", "sent": "sent {dir}, id",
                        "clicks": "clicks {dir}, id", "unsubscribes": "unsubscribes {dir}, id", "id": "id {dir}"}
ADMIN_STEPS = ("select id, step_order, delay_hours, subject, html_body, active from drip.sequence_steps "
               "where sequence_id = %(id)s order by step_order")
ADMIN_PREFAB = "select drip.prefab(%(prefab)s) as prefab"
ADMIN_SEQUENCE_DEFAULTS = "select drip.sequence_defaults() as defaults"
ADMIN_SAVE_SEQUENCE = "select drip.save_sequence(%(id)s, %(sequence)s, %(steps)s) as id"
ADMIN_DUPLICATE = "select drip.duplicate_sequence(%(id)s) as id"
ADMIN_SET_ACTIVE = "select drip.set_sequence_active(%(id)s, %(active)s) as changed"
ADMIN_PREVIEW = ("select * from drip.preview_message(%(subject)s, %(html_body)s, %(contact)s, "
                 "coalesce(%(step)s::bigint, 0))")
ADMIN_TIME_ZONES = "select name from drip.time_zones order by name"
ADMIN_ENROLLMENTS = ("select * from drip.sequence_enrollments(%(id)s, %(status)s, %(email)s, %(after_contact)s, "
                     "%(after_id)s, %(limit)s)")
ADMIN_COUNT_CANCELLABLE = "select drip.count_cancellable(%(id)s, %(status)s, %(email)s) as n"
ADMIN_ENROLLMENT = "select * from drip.enrollment_overview where id = %(id)s"
ADMIN_CANCEL_ENROLLMENTS = "select drip.cancel_enrollments(%(id)s, %(status)s, %(email)s) as n"
ADMIN_CONTACT = ("select id, email, first_name, last_name, birthday, time_zone, created_at, unsubscribed_at, "
                 "bounced_at from drip.contacts where id = %(id)s")
ADMIN_CONTACT_ENROLLMENTS = "select * from drip.contact_enrollments(%(id)s)"
ADMIN_CONTACT_HISTORY = "select * from drip.contact_history(%(id)s)"
ADMIN_UNSUBSCRIBE = "select drip.unsubscribe_contact(%(id)s, 'admin') as changed"
ADMIN_FAILED = "select * from drip.failed_messages(%(after)s, %(limit)s)"
ADMIN_FORECAST = "select * from drip.forecast_summary()"
ADMIN_SEQUENCE_REPORT = "select * from drip.sequence_report order by sequence_id"
METRICS_STATUS = ("select s.*, (select count(*) from drip.outbox o where o.status = 'sending') as sending, "
                  "extract(epoch from s.last_sweep::timestamp at time zone 'UTC') as last_sweep_epoch "
                  "from drip.status s")

# journeys: events and segments (behaviours 17-22)
ADD_EVENT = ("insert into drip.events (contact_id, name, key, payload) "
             "values (%(contact)s, %(name)s, %(key)s, %(payload)s) returning id")
EVENT_ENROLLMENTS = ("select count(*) as n from drip.enrollments "
                     "where contact_id = %(contact)s and event_id = %(id)s")
ENROLL_MATCHING = "select drip.enroll_matching(%(id)s) as n"

# protecting the audience: topics and caps (behaviours 23-24)
TOPICS = ("select t.id, t.name, t.description, "
          "(select count(*) from drip.sequences s where s.topic_id = t.id) as sequences, "
          "(select count(*) from drip.topic_unsubscribes u where u.topic_id = t.id) as unsubscribed "
          "from drip.topics t order by lower(t.name)")
ADD_TOPIC = "insert into drip.topics (name, description) values (%(name)s, %(description)s) returning id"
REMOVE_TOPIC = "delete from drip.topics where id = %(id)s returning id"
TOPIC_UNSUBSCRIBE = ("insert into drip.topic_unsubscribes (contact_id, topic_id, via) values (%(contact)s, %(topic)s, "
                     "'cli') on conflict do nothing returning contact_id")
TOPIC_RESUBSCRIBE = ("delete from drip.topic_unsubscribes where contact_id = %(contact)s and topic_id = %(topic)s "
                     "returning contact_id")
TOPIC_ID = ("select id from drip.topics where (%(key)s ~ '^[0-9]{1,18}$' and id = %(key)s::bigint) "
            "or lower(name) = lower(%(key)s) order by id limit 1")
CAPS = "select id, max_messages, per from drip.frequency_caps order by per, id"
ADD_CAP = "insert into drip.frequency_caps (max_messages, per) values (%(max)s, %(per)s::interval) returning id"
REMOVE_CAP = "delete from drip.frequency_caps where id = %(id)s returning id"

# experiments (behaviour 25)
SAVE_VARIANTS = "select * from drip.save_variants(%(id)s, %(variants)s)"
VARIANTS = ("select v.id, v.step_id, st.sequence_id, st.step_order, v.name, v.weight, v.active, v.subject, "
            "st.control_weight from drip.step_variants v join drip.sequence_steps st on st.id = v.step_id "
            "where (%(step)s::bigint is null or v.step_id = %(step)s) "
            "and (%(sequence)s::bigint is null or st.sequence_id = %(sequence)s) "
            "order by st.sequence_id, st.step_order, v.id")
ADD_VARIANT = ("insert into drip.step_variants (step_id, name, subject, html_body, weight) "
               "values (%(step)s, %(name)s, %(subject)s, %(html_body)s, %(weight)s) returning id")
SET_VARIANT_ACTIVE = "update drip.step_variants set active = %(active)s where id = %(id)s returning id"
PROMOTE_VARIANT = "select drip.promote_variant(%(id)s) as step_id"
VARIANT_REPORT = ("select st.sequence_id, st.step_order, r.* from drip.variant_report r "
                  "join drip.sequence_steps st on st.id = r.step_id "
                  "where (%(sequence)s::bigint is null or st.sequence_id = %(sequence)s) "
                  "order by st.sequence_id, st.step_order, r.variant_id nulls first")
