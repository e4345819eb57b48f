"""The migrations produce exactly the schema in sql/, and migrate is safe to repeat and to race."""

import threading

import psycopg
import pytest

from pgdrip.migrate import migrate
from pgdrip.paths import MIGRATIONS_DIR, code_files, schema_files
from tests.helpers import with_dbname

CATALOG = """
select 'column' k, c.table_name || '.' || c.column_name || ' ' || c.data_type || ' ' ||
       c.is_nullable || ' ' || coalesce(c.column_default, '') || coalesce(c.identity_generation, '') v
  from information_schema.columns c where c.table_schema = 'drip' and c.table_name not like '%yoyo%'
union all
select 'index', indexdef from pg_indexes where schemaname = 'drip' and tablename not like '%yoyo%'
union all
select 'constraint', conrelid::regclass || ' ' || pg_get_constraintdef(oid) from pg_constraint
  where connamespace = 'drip'::regnamespace and conrelid::regclass::text not like '%yoyo%'
union all
select 'function', pg_get_functiondef(p.oid) from pg_proc p where p.pronamespace = 'drip'::regnamespace
union all
select 'trigger', pg_get_triggerdef(t.oid) from pg_trigger t join pg_class r on r.oid = t.tgrelid
  where r.relnamespace = 'drip'::regnamespace and not t.tgisinternal
union all
select 'view', viewname || ' ' || definition from pg_views where schemaname = 'drip'
union all
select 'reloptions', relname || ' ' || array_to_string(reloptions, ',') from pg_class
  where relnamespace = 'drip'::regnamespace and reloptions is not null
union all
select 'acl', relname || ' ' || coalesce(relacl::text, '') from pg_class
  where relnamespace = 'drip'::regnamespace and relname not like '%yoyo%'
order by 1, 2
"""


@pytest.fixture
def blank_db(server_dsn):
    names = []

    def make(name: str) -> str:
        with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
            conn.execute(f'create database "{name}"')
        names.append(name)
        return with_dbname(server_dsn, name)

    yield make
    with psycopg.connect(with_dbname(server_dsn, "postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(f'drop database if exists "{name}" with (force)')


def catalog(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(CATALOG).fetchall()


def test_migrations_equal_the_schema_in_sql(blank_db):
    migrated = blank_db("drip_mig_a")
    direct = blank_db("drip_mig_b")
    migrate(migrated)
    with psycopg.connect(direct, autocommit=True) as conn:
        for path in schema_files() + code_files():
            conn.execute(path.read_text())
    a, b = catalog(migrated), catalog(direct)
    assert len(a) > 100
    assert [r for r in a if r not in b] == [] and [r for r in b if r not in a] == []


MIGRATIONS = len(list(MIGRATIONS_DIR.glob("*.sql")))


def test_migrate_twice_reapplies_code_and_keeps_data(blank_db):
    dsn = blank_db("drip_mig_c")
    assert migrate(dsn)[0] == MIGRATIONS
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("insert into drip.contacts (email) values ('keep@example.com')")
        conn.execute("create or replace function drip.html_escape(p_text text) returns text "
                     "language sql immutable set search_path = '' return 'broken'")
    applied, files = migrate(dsn)
    assert applied == 0 and files == len(code_files())
    with psycopg.connect(dsn) as conn:
        assert conn.execute("select drip.html_escape('<')").fetchone()[0] == "&lt;"
        assert conn.execute("select count(*) from drip.contacts").fetchone()[0] == 1


def test_upgrade_drops_the_first_release_signatures(blank_db):
    """Functions whose signature changed since the first release are replaced, not left beside
    the new ones (an old dispatch_batch would still be callable, and ambiguous)."""
    dsn = blank_db("drip_mig_upgrade")
    migrate(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("create function drip.dispatch_batch(p_now timestamptz, p_limit integer) returns integer "
                     "language sql return 0")
        conn.execute("create function drip.enrollment_candidates(text, bigint[], text[]) "
                     "returns table (sequence_id bigint, contact_id bigint, first_delay numeric) "
                     "language sql as 'select 1::bigint, 1::bigint, 0::numeric'")
    migrate(dsn)
    with psycopg.connect(dsn) as conn:
        left = conn.execute("select oid::regprocedure::text from pg_proc "
                            "where proname in ('dispatch_batch', 'enrollment_candidates')").fetchall()
    assert left == [("drip.dispatch_batch(timestamp with time zone,integer,timestamp with time zone,bigint)",)]


def test_two_migrates_at_once(blank_db):
    dsn = blank_db("drip_mig_d")
    results, errors = [], []

    def run() -> None:
        try:
            results.append(migrate(dsn)[0])
        except Exception as exc:  # collected and asserted
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and sorted(results) == [0, MIGRATIONS]


def test_nothing_in_public(blank_db):
    dsn = blank_db("drip_mig_e")
    migrate(dsn)
    with psycopg.connect(dsn) as conn:
        assert conn.execute(
            "select count(*) from pg_class where relnamespace = 'public'::regnamespace").fetchone()[0] == 0
