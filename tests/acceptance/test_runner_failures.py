"""The runner says when something failed (issue 18, section 4): `run --once` exits non-zero after
a failed sweep and logs the cause, a bug is never swallowed, and a graceful stop leaves no row
'sending' even when the mail server stops answering in the middle of a message."""

import logging
import time

import pytest

from tests.acceptance.cli import pgdrip
from tests.acceptance.runner_process import RunnerProcess
from tests.helpers import add_contact, add_contacts, add_sequence, add_tag, tag, tag_everyone


def test_run_once_exits_non_zero_when_the_sweep_fails_and_says_why(dsn, db, smtp, tmp_home):
    """The sweep cannot claim its day (drip.sweeps is locked, and the runner's lock_timeout is
    1 s). The mail already due still goes out; then --once exits 1, and the log line of the
    failure names its cause."""
    add_sequence(db, "tag_added", None)
    tag(db, add_contact(db, "ada@example.com"), add_tag(db, "x"))
    with db.transaction():
        db.execute("lock table drip.sweeps in access exclusive mode")
        r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home,
                   env={"PGOPTIONS": "-c lock_timeout=1000"})
    assert r.returncode == 1, r.stderr
    assert "sweep failed: canceling statement due to lock timeout" in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last == "error: run --once: the anniversary sweep failed (see the log line above)"
    assert "Traceback" not in r.stderr
    assert len(smtp.handler.messages) == 1
    assert db.execute("select count(*) n from drip.sweeps").fetchone()["n"] == 0  # the day stays owed
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0, r.stderr
    assert db.execute("select count(*) n from drip.sweeps").fetchone()["n"] >= 1


def test_a_bug_is_not_swallowed_and_a_database_error_is_logged_with_its_cause(dsn, caplog):
    from pgdrip.daemon import Runner
    from pgdrip.settings import RunSettings

    runner = Runner(dsn, RunSettings(), sender_factory=lambda: None)
    with pytest.raises(ZeroDivisionError):
        runner._safely("dispatch", lambda conn: 1 / 0)
    with pytest.raises(AttributeError):
        runner._safely("sweep", lambda conn: conn.no_such_method())
    with caplog.at_level(logging.INFO, logger="pgdrip.run"):
        assert runner._safely("sweep", lambda conn: conn.execute("select 1 / 0")) is False
    assert "sweep failed: division by zero [SQLSTATE 22012]" in caplog.text
    assert runner._safely("heartbeat", lambda conn: conn.execute("select 1")) is True  # connects again


def stalled(db, smtp, n: int = 3) -> str:
    """n messages whose recipients make the server stall for a minute after DATA; the runner's
    SMTP timeout is longer still, so only a stop can end the wait."""
    smtp.handler.stall_seconds = 60
    add_sequence(db, "tag_added", None)
    add_contacts(db, n, prefix="stall")
    tag_everyone(db, add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")
    return f"smtp://127.0.0.1:{smtp.port}?timeout=90"


def wait_for_a_stalled_send(db, runner, n: int) -> None:
    deadline = time.monotonic() + 20
    while db.execute("select count(*) n from drip.outbox where status = 'sending'").fetchone()["n"] < n:
        assert time.monotonic() < deadline, runner.log
        time.sleep(0.05)
    time.sleep(1.0)  # the first message is on the wire, its DATA unanswered


def test_sigterm_while_the_mail_server_stalls_leaves_no_row_sending(dsn, db, smtp, tmp_home):
    url = stalled(db, smtp)
    runner = RunnerProcess(dsn, tmp_home, "--smtp", url, "--workers", "1", "--batch-size", "3")
    assert runner.wait_for_log("runner ", 20), runner.log
    wait_for_a_stalled_send(db, runner, 3)
    started = time.monotonic()
    assert runner.terminate(timeout=30) == 0, runner.log
    took = time.monotonic() - started
    assert 7 < took < 16, (took, runner.log)  # the graceful wait, then the send is interrupted
    rows = db.execute("select status, attempts, last_error from drip.outbox order by id").fetchall()
    assert [r["status"] for r in rows] == ["queued"] * 3, rows
    # the message on the wire: tried once, to be retried (the server may or may not have it);
    # the two behind it: handed back untried
    assert rows[0]["attempts"] == 1 and rows[0]["last_error"].startswith("SMTP connection lost")
    assert [(r["attempts"], r["last_error"]) for r in rows[1:]] == [(0, None), (0, None)]
    assert "interrupting their sends" in runner.log and "runner stopped" in runner.log
    assert "Traceback" not in runner.log


def test_sigterm_during_run_once_also_leaves_no_row_sending(dsn, db, smtp, tmp_home):
    url = stalled(db, smtp, 2)
    runner = RunnerProcess(dsn, tmp_home, "--once", "--smtp", url, "--workers", "1", "--batch-size", "2")
    wait_for_a_stalled_send(db, runner, 2)
    assert runner.terminate(timeout=30) == 1, runner.log
    assert "error: run --once: stopped by SIGTERM before the outbox was drained" in runner.log
    assert db.execute("select count(*) n from drip.outbox where status <> 'queued'").fetchone()["n"] == 0
