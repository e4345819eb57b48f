"""Every SQL statement the runner and the CLI send, in one place. Named parameters only."""

# --- migrate -----------------------------------------------------------------
MIGRATE_LOCK = "select pg_advisory_lock(hashtext('pgdrip.migrate'))"
MIGRATE_UNLOCK = "select pg_advisory_unlock(hashtext('pgdrip.migrate'))"
CREATE_SCHEMA = "create schema if not exists drip"
