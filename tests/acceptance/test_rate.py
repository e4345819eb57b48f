"""Behaviour 16: PGDRIP_MAX_RATE caps what all runners of one database send together."""

import datetime as dt
import os
import subprocess
import sys

from tests.acceptance.cli import pgdrip
from tests.helpers import add_contacts, add_sequence, add_tag, tag_everyone

RATE = 10


def test_two_runners_together_keep_to_the_rate(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    add_contacts(db, 40)
    tag_everyone(db, add_tag(db, "x"))
    db.execute("call drip.dispatch_due()")
    env = {"PGDRIP_DSN": dsn, "PGDRIP_HOME": str(tmp_home)}
    args = [sys.executable, "-m", "pgdrip", "run", "--once", "--drain-only", "--smtp", smtp.url, "--workers", "2"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
    runners = [subprocess.Popen(args + ["--max-rate", str(RATE)], env={**base, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True),
               subprocess.Popen(args, env={**base, **env, "PGDRIP_MAX_RATE": str(RATE)}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)]
    outs = [r.communicate(timeout=60) for r in runners]
    assert [r.returncode for r in runners] == [0, 0], outs
    assert db.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == 40
    times = sorted(smtp.handler.accept_times)
    # a full bucket allows one second's worth at once, then RATE per second
    assert times[-1] - times[0] >= (40 - RATE) / RATE * 0.9
    worst = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert worst <= 2 * RATE + 1, worst
    # both runners sent: the cap is shared, not per process
    assert all("sent 0," not in out for out, _ in outs), outs


def test_without_a_rate_the_drain_is_not_held_back(dsn, db, smtp, tmp_home):
    add_sequence(db, "tag_added", None)
    add_contacts(db, 40)
    tag_everyone(db, add_tag(db, "x"))
    r = pgdrip("run", "--once", "--smtp", smtp.url, dsn=dsn, home=tmp_home)
    assert r.returncode == 0 and "sent 40" in r.stdout, r.stderr
    assert db.execute("select tokens from drip.send_rate").fetchone()["tokens"] == 0  # the bucket was never used


def test_the_bucket_holds_one_seconds_worth_and_refills_at_the_rate(db):
    db.execute("update drip.send_rate set refilled_at = now() - interval '1 hour'")  # idle for long: full
    assert db.execute("select drip.take_send_tokens(2, 100) n").fetchone()["n"] == 2
    assert db.execute("select drip.take_send_tokens(2, 100) n").fetchone()["n"] == 0
    # half a second later, one token (it would take another half second of stalling to see two)
    refilled = db.execute("select refilled_at from drip.send_rate").fetchone()["refilled_at"]
    db.execute("update drip.send_rate set refilled_at = %s", (refilled - dt.timedelta(seconds=0.5),))
    assert db.execute("select drip.take_send_tokens(2, 100) n").fetchone()["n"] == 1
    db.execute("select drip.return_send_tokens(2, 5)")  # returned tokens never overfill the bucket
    assert db.execute("select drip.take_send_tokens(2, 100) n").fetchone()["n"] == 2
