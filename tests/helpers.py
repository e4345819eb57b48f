"""Small builders the tests share: contacts, sequences, tags, dispatch."""

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

# the suites run against a Citus coordinator (tests/conftest.py)
ON_CITUS = os.environ.get("PGDRIP_TEST_CITUS") == "1"


def error_field(diag: psycopg.errors.Diagnostic) -> str | None:
    """The field an error names: its column, or the "field: X" of its detail, which every pgdrip
    error also carries (Citus passes on an error raised on a worker without its column)."""
    if diag.column_name:
        return diag.column_name
    found = re.search(r"field: ([\w.\[\]]+)", diag.message_detail or "")  # "steps[2].subject" names subject
    return re.sub(r"\[\d+\]", "", found.group(1)).rsplit(".", 1)[-1] if found else None


def not_on_citus(reason: str) -> pytest.MarkDecorator:
    """Marks a test that cannot run on Citus, and why."""
    return pytest.mark.not_on_citus(reason=reason)


def with_dbname(dsn: str, dbname: str) -> str:
    return make_conninfo(dsn, dbname=dbname)


def add_contact(db: psycopg.Connection, email: str, first_name: str | None = None, **cols: Any) -> int:
    cols = {"email": email, "first_name": first_name, **cols}
    names = ", ".join(cols)
    marks = ", ".join(f"%({k})s" for k in cols)
    row = db.execute(f"insert into drip.contacts ({names}) values ({marks}) returning id", cols).fetchone()
    return row["id"]


def add_contacts(db: psycopg.Connection, n: int, prefix: str = "u") -> None:
    """n contacts, PREFIX1@example.com ... PREFIXn@example.com, in one statement."""
    db.execute("insert into drip.contacts (email) select %(p)s || g || '@example.com' "
               "from generate_series(1, %(n)s) g", {"p": prefix, "n": n})


def add_sequence(
    db: psycopg.Connection,
    trigger_type: str = "tag_added",
    trigger_value: str | None = None,
    steps: list[tuple[float, str, str]] | None = None,
    name: str = "seq",
    active: bool = True,
) -> int:
    """steps: (delay_hours, subject, html_body) in order."""
    seq = db.execute(
        "insert into drip.sequences (name, trigger_type, trigger_value, active) "
        "values (%s, %s, %s, %s) returning id",
        (name, trigger_type, trigger_value, active),
    ).fetchone()["id"]
    for order, (delay, subject, body) in enumerate(steps or [(0, "Hello {{FirstName}}", "<p>Hi</p>")], 1):
        db.execute(
            "insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body) "
            "values (%s, %s, %s, %s, %s)",
            (seq, order, delay, subject, body),
        )
    return seq


def add_tag(db: psycopg.Connection, name: str) -> int:
    return db.execute("insert into drip.tags (name) values (%s) returning id", (name,)).fetchone()["id"]


def tag(db: psycopg.Connection, contact_id: int, tag_id: int) -> None:
    db.execute("insert into drip.contact_tags (contact_id, tag_id) values (%s, %s)", (contact_id, tag_id))


def tag_everyone(db: psycopg.Connection, tag_id: int) -> None:
    """Tag every contact in one INSERT ... SELECT: the bulk, set-based path."""
    db.execute("insert into drip.contact_tags (contact_id, tag_id) select id, %s from drip.contacts", (tag_id,))


def dispatch(db: psycopg.Connection, hours: float = 0) -> None:
    """CALL dispatch_due at now() + hours."""
    db.execute("call drip.dispatch_due(now() + %s * interval '1 hour')", (hours,))


def outbox(db: psycopg.Connection) -> list[dict]:
    return db.execute("select * from drip.outbox order by id").fetchall()


def enrollments(db: psycopg.Connection) -> list[dict]:
    return db.execute("select * from drip.enrollments order by id").fetchall()


@contextmanager
def trigger_disabled(db: psycopg.Connection, table: str, trigger: str) -> Iterator[None]:
    db.execute(f"alter table drip.{table} disable trigger {trigger}")
    try:
        yield
    finally:
        db.execute(f"alter table drip.{table} enable trigger {trigger}")


def wait_until_blocked(db: psycopg.Connection, statement: str, timeout: float = 10.0) -> None:
    """Waits until another backend of this database, running a statement that contains
    `statement`, is waiting for a lock: a race test asserts only once the race is really on."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        n = db.execute("select count(*) as n from pg_stat_activity where datname = current_database() "
                       "and pid <> pg_backend_pid() and position(%s in query) > 0 "
                       "and cardinality(pg_blocking_pids(pid)) > 0", (statement,)).fetchone()
        if (n["n"] if isinstance(n, dict) else n[0]) > 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"no backend running {statement!r} started waiting for a lock within {timeout}s")


def run_together(n: int, work) -> list[BaseException]:
    """work(i) on n threads released together; returns what they raised."""
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(10)
            work(i)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors
