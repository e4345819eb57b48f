"""Every SQL statement the runner and the CLI send, in one place. Named parameters only."""

# --- migrate -----------------------------------------------------------------
MIGRATE_LOCK = "select pg_advisory_lock(hashtext('pgdrip.migrate'))"
MIGRATE_UNLOCK = "select pg_advisory_unlock(hashtext('pgdrip.migrate'))"
CREATE_SCHEMA = "create schema if not exists drip"
HAS_CITUS = "select exists (select from pg_extension where extname = 'citus') as citus"
# DDL on Citus: triggers on distributed tables, objects created on every node at once, and DDL
# after multi-shard work in one transaction
CITUS_DDL_SETTINGS = """
    select set_config('citus.enable_unsafe_triggers', 'on', true),
           set_config('citus.create_object_propagation', 'immediate', true),
           set_config('citus.multi_shard_modify_mode', 'sequential', true)"""
DISTRIBUTE = "select drip.distribute()"

# --- runner ------------------------------------------------------------------
SCHEMA_READY = "select to_regprocedure('drip.dispatch_due(timestamptz)') is not null as ready"
DISPATCH = "call drip.dispatch_due()"
SWEEP = "call drip.anniversary_sweep(%(day)s)"
CLAIM_SWEEP = "select coalesce(drip.claim_sweep(%(day)s, %(runner)s), false) as claimed"
HEARTBEAT = "select drip.runner_heartbeat(%(name)s, %(host)s, %(pid)s)"
CLAIM_OUTBOX = "select * from drip.claim_outbox(%(runner)s, %(limit)s, %(lease)s)"
FINISH_OUTBOX = "select drip.finish_outbox(%(runner)s, %(ids)s, %(outcome)s, %(errors)s) as n"
UNSENDABLE = "select id from drip.unsendable(%(runner)s, %(ids)s) as id"
TAKE_SEND_TOKENS = "select drip.take_send_tokens(%(rate)s, %(want)s) as n"
RETURN_SEND_TOKENS = "select drip.return_send_tokens(%(rate)s, %(n)s)"
# only the keys given change (p_partial): a runner never clears what it was not given
PUBLISH_MAIL_SETTINGS = "select drip.publish_mail_settings(%(settings)s, %(runner)s, true)"
MAIL_SETTINGS = ("select brand_header, brand_footer, unsubscribe_url, public_url, "
                 "cardinality(link_key) / 2 as link_keys, unsubscribe_mailto, sender_domain, published_at, "
                 "published_by from drip.mail_settings")
FORGET_LINK_SECRETS = "select drip.forget_link_secrets() as n"
SWEEP_DATES = "select d as day from drip.sweep_dates(%(catchup)s) d"
NEXT_DUE = ("select extract(epoch from min(next_step_due_at) - clock_timestamp()) as seconds from drip.enrollments "
            "where status = 'active' and next_step_due_at > now()")
COMPACT_STEP_STATS = "select drip.compact_step_stats()"
PRUNE = "call drip.prune(%(days)s * interval '1 day')"
LISTEN = ("listen drip_due", "listen drip_outbox")
OUTBOX_COUNT = "select count(*) as n from drip.outbox"

# --- pgdrip demo: a welcome sequence and three tagged contacts (idempotent) -------------
DEMO_SETUP = (
    "select drip.create_sequence_from_prefab('welcome', 'Welcome series (demo)') "
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
# a link in the demo's first email, so that tracking has something to show
DEMO_LINK = ("update drip.sequence_steps st set html_body = st.html_body || "
             "'<p><a href=\"https://example.com/getting-started\">Get started</a></p>' "
             "from drip.sequences s where s.id = st.sequence_id and s.name = 'Welcome series (demo)' "
             "and st.step_order = 1 and st.html_body not like '%%getting-started%%'")
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
DISPATCH_AT = "call drip.dispatch_due(coalesce(%(now)s::timestamptz, now()))"
SWEEP_ON = "call drip.anniversary_sweep(coalesce(%(day)s::date, (now() at time zone 'UTC')::date))"
SEQUENCES = "select * from drip.sequence_overview order by {order}"
SEQUENCE_SORTS = {"id": "id", "name": "lower(name), id", "trigger": "trigger_type, id",
                  "steps": "step_count desc, id", "enrollments": "active_enrollments desc, id",
                  "status": "active desc, id"}
SEQUENCE = "select * from drip.sequences where id = %(id)s"
SEQUENCE_STEPS = ("select id, step_order, delay_hours, subject, active from drip.sequence_steps "
                  "where sequence_id = %(id)s order by step_order")
SET_SEQUENCE_ACTIVE = "update drip.sequences set active = %(active)s where id = %(id)s returning id"
SET_STEP_ACTIVE = "update drip.sequence_steps set active = %(active)s where id = %(id)s returning id"
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
_SEQUENCE_SETTINGS = ("description", "trigger_type", "trigger_value", "active", "time_zone", "send_window_start",
                      "send_window_end", "send_days", "exit_trigger_type", "exit_trigger_value", "reentry")
INSERT_SEQUENCE = (f"insert into drip.sequences (name, {', '.join(_SEQUENCE_SETTINGS)}) "
                   f"values (%(name)s, {', '.join(f'%({k})s' for k in _SEQUENCE_SETTINGS)}) returning id")
UPDATE_SEQUENCE = (f"update drip.sequences set {', '.join(f'{k} = %({k})s' for k in _SEQUENCE_SETTINGS)} "
                   "where id = %(id)s")

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
UNSUBSCRIBE_BY_TOKEN = "select drip.unsubscribe_by_token(%(token)s, %(via)s) as contact_id"

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
ADMIN_SAVE_SEQUENCE = "select drip.save_sequence(%(id)s, %(sequence)s, %(steps)s) as id"
ADMIN_DUPLICATE = "select drip.duplicate_sequence(%(id)s) as id"
ADMIN_SET_ACTIVE = "select drip.set_sequence_active(%(id)s, %(active)s) as changed"
ADMIN_PREVIEW = ("select * from drip.preview_message(%(subject)s, %(html_body)s, %(contact)s, "
                 "coalesce(%(step)s::bigint, 0))")
ADMIN_TIME_ZONES = "select name from drip.time_zones order by name"
ADMIN_ENROLLMENTS = ("select * from drip.sequence_enrollments(%(id)s, %(status)s, %(email)s, %(after_contact)s, "
                     "%(after_id)s, %(limit)s)")
ADMIN_COUNT_ENROLLMENTS = "select drip.count_enrollments(%(id)s, %(status)s, %(email)s) as n"
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
