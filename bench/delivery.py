"""Runner-side figures: drain throughput (against a bare smtplib loop, and against the physical
limit of this machine: Postfix's smtp-source into smtp-sink), the drain with a large backlog,
event-to-SMTP latency, runner memory."""

import os
import shutil
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from common import ROOT, Figure, connect, drop_db, fresh_db, median, timed

from pgdrip.message import build_envelope
from pgdrip.settings import RunSettings
from tests.smtp_server import SmtpServer, free_port

SMTP_SINK, SMTP_SOURCE = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink", \
    shutil.which("smtp-source") or "/usr/sbin/smtp-source"


def postfix_tools() -> bool:
    """smtp-sink and smtp-source come with Debian's postfix package (apt-get install postfix)."""
    return os.access(SMTP_SINK, os.X_OK) and os.access(SMTP_SOURCE, os.X_OK)


class SinkProcess:
    """aiosmtpd in its own process, so the sink does not share the benchmark's interpreter."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.smtp_server", str(self.port), "--discard"], cwd=ROOT,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class PostfixSink:
    """Postfix's smtp-sink: a C SMTP server that takes 2,500+ messages a second here and answers
    PIPELINING, so the sink is never what a drain figure measures."""

    def __init__(self) -> None:
        self.port = free_port()
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        self.proc = subprocess.Popen([SMTP_SINK, *user, f"127.0.0.1:{self.port}", "1000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=2).quit()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _queue(conn, n: int, contacts: int | None = None) -> None:
    """n queued messages, one each to every (contacts // n)-th of `contacts` contacts (default n)."""
    contacts = contacts or n
    conn.execute("insert into drip.contacts (email, first_name) select 'u' || g || '@example.com', 'Name' || g "
                 "from generate_series(1, %(n)s) g", {"n": contacts})
    sid = conn.execute("insert into drip.sequences (name, trigger_type) values ('drain', 'after_purchase') "
                       "returning id").fetchone()["id"]
    conn.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) values "
                 "(%s, 1, 'Hello {{FirstName}}', %s)", (sid, "<p>Hello {{FirstName}},</p>" + "<p>news</p>" * 20))
    conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                 "from drip.contacts where id %% %(every)s = 0", {"every": contacts // n})
    conn.execute("call drip.dispatch_due()")


def _env(dsn: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
    env.update({"PGDRIP_DSN": dsn, "PGDRIP_HOME": str(home), "PYTHONPATH": str(ROOT / "runner")})
    return env


def bench_drain(base: str, n: int, runs: int, home: Path) -> Figure:
    sink = SinkProcess()
    ours, theirs = [], []
    try:
        for _ in range(runs):
            dsn = fresh_db(base, "pgdrip_bench_drain")
            with connect(dsn) as conn:
                _queue(conn, n)
                rows = conn.execute("select to_address, subject, html_body, message_id from drip.outbox").fetchall()
            # pgdrip: the real CLI, default settings
            cmd = [sys.executable, "-m", "pgdrip", "run", "--once", "--smtp", sink.url, "--log-level", "warning"]
            started = time.perf_counter()
            subprocess.run(cmd, env=_env(dsn, home), check=True, capture_output=True)
            ours.append(time.perf_counter() - started)
            with connect(dsn) as conn:
                assert conn.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == n

            def bare_loop(rows: list[dict] = rows) -> None:
                with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
                    for row in rows:
                        msg = EmailMessage()
                        msg["From"] = "pgdrip@localhost"
                        msg["To"] = row["to_address"]
                        msg["Subject"] = row["subject"]
                        msg["Message-ID"] = row["message_id"]
                        msg.set_content(row["html_body"], subtype="html")
                        smtp.send_message(msg)
            theirs.append(timed(bare_loop))
            drop_db(base, "pgdrip_bench_drain")
    finally:
        sink.stop()
    return Figure(f"drain {n:,} messages to aiosmtpd (separate process)", median(ours), "s", median(theirs),
                  "bare smtplib loop, one connection", "<= 0.6x",
                  detail=f"{n / median(ours):.0f} msg/s vs {n / median(theirs):.0f} msg/s")


def _run_once(dsn: str, home: Path, url: str) -> None:
    subprocess.run([sys.executable, "-m", "pgdrip", "run", "--once", "--smtp", url, "--log-level", "warning"],
                   env=_env(dsn, home), check=True, capture_output=True)


def _message_size(conn) -> int:
    """The size of the messages pgdrip sends in these figures, for smtp-source to send the same."""
    rows = conn.execute("select * from drip.outbox order by id limit 100").fetchall()
    return sum(len(build_envelope(r, RunSettings(home=Path("/nonexistent"))).data) for r in rows) // len(rows)


def bench_drain_limit(base: str, n: int, runs: int, home: Path) -> list[Figure]:
    """pgdrip's drain of n queued messages against Postfix's smtp-source sending n messages of the
    same size into the same smtp-sink with 4 sessions: as it runs by default (a connection per
    message, the limit the hardening issue set the target against), and with -d (one connection
    per session, as pgdrip keeps them: the wire's own limit). Each run alternates the order."""
    if not postfix_tools():
        print(f"(skipped the physical-limit figures: {SMTP_SINK} and {SMTP_SOURCE} need: apt-get install postfix)")
        return []
    sink = PostfixSink()
    dsn = fresh_db(base, "pgdrip_bench_limit")
    ours, plain, reused, ratios, reused_ratios = [], [], [], [], []
    try:
        with connect(dsn) as conn:
            _queue(conn, n)
            size = _message_size(conn)
            source = [SMTP_SOURCE, "-s", "4", "-m", str(n), "-l", str(size), "-f", "pgdrip@localhost",
                      "-t", "u@example.com", f"127.0.0.1:{sink.port}"]
            for i in range(runs):
                conn.execute("update drip.outbox set status = 'queued', attempts = 0, sent_at = null, "
                             "next_attempt_at = now(), locked_by = null")
                conn.execute("vacuum analyze drip.outbox")
                conn.execute("checkpoint")
                sides = {"pgdrip": lambda: _run_once(dsn, home, sink.url),
                         "source": lambda: subprocess.run(source, check=True, capture_output=True),
                         "source -d": lambda: subprocess.run([*source[:1], "-d", *source[1:]], check=True,
                                                             capture_output=True)}
                order = list(sides) if i % 2 == 0 else list(reversed(sides))
                took = {side: timed(sides[side]) for side in order}
                assert conn.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == n
                ours.append(took["pgdrip"])
                plain.append(took["source"])
                reused.append(took["source -d"])
                ratios.append(took["pgdrip"] / took["source"])
                reused_ratios.append(took["pgdrip"] / took["source -d"])
    finally:
        sink.stop()
        drop_db(base, "pgdrip_bench_limit")
    name = f"drain {n:,} messages into smtp-sink"
    return [Figure(f"{name}, against smtp-source", median(ours), "s", median(plain),
                   "smtp-source, 4 sessions, same count and size", "<= 1.5x", ratios,
                   detail=f"{size:,} bytes each; {n / median(ours):.0f} msg/s vs {n / median(plain):.0f} msg/s"),
            Figure(f"{name}, against smtp-source -d", median(ours), "s", median(reused),
                   "smtp-source -d: 4 sessions, each one connection, as pgdrip keeps them", "(reference)",
                   reused_ratios, detail=f"{n / median(ours):.0f} msg/s vs {n / median(reused):.0f} msg/s")]


def bench_drain_backlog(base: str, contacts: int, backlog: int, small: int, home: Path) -> Figure | None:
    """Per-message drain time with `contacts` contacts and a `backlog`-row queue, against the same
    drain of `small` messages for `small` contacts: a claim path that scanned the backlog or the
    contacts would show here."""
    if not postfix_tools():
        return None
    sink = PostfixSink()
    per_message = {}
    try:
        # the small drain takes a second or two: the median of three; the large one runs once
        for label, n_contacts, n_queued, repeat in (("small", small, small, 3), ("large", contacts, backlog, 1)):
            times = []
            for _ in range(repeat):
                dsn = fresh_db(base, "pgdrip_bench_backlog")
                with connect(dsn) as conn:
                    _queue(conn, n_queued, n_contacts)
                    conn.execute("vacuum analyze")
                    conn.execute("checkpoint")
                times.append(timed(lambda dsn=dsn: _run_once(dsn, home, sink.url)))
                with connect(dsn) as conn:
                    sent = conn.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"]
                assert sent == n_queued
                drop_db(base, "pgdrip_bench_backlog")
            per_message[label] = (median(times) / n_queued, n_queued)
    finally:
        sink.stop()
    (small_each, small_n), (large_each, large_n) = per_message["small"], per_message["large"]
    return Figure(f"drain time per message: {large_n:,} queued among {contacts:,} contacts", large_each * 1e6, "us",
                  small_each * 1e6, f"{small_n:,} queued among {small:,} contacts", "<= 1.1x")


def bench_latency(base: str, samples: int, home: Path) -> tuple[Figure, Figure]:
    dsn = fresh_db(base, "pgdrip_bench_latency")
    smtp = SmtpServer().start()
    with connect(dsn) as conn:
        sid = conn.execute("insert into drip.sequences (name, trigger_type) values ('now', 'tag_added') "
                           "returning id").fetchone()["id"]
        conn.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) "
                     "values (%s, 1, 'Hi', '<p>Hi</p>')", (sid,))
        tag = conn.execute("insert into drip.tags (name) values ('t') returning id").fetchone()["id"]
    proc = subprocess.Popen([sys.executable, "-m", "pgdrip", "run", "--smtp", smtp.url, "--poll-seconds", "3600"],
                            env=_env(dsn, home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    latencies = []
    try:
        assert proc.stderr is not None
        while "runner " not in proc.stderr.readline():
            pass
        time.sleep(1)
        with connect(dsn) as conn:
            for i in range(samples):
                c = conn.execute("insert into drip.contacts (email) values (%s) returning id",
                                 (f"l{i}@example.com",)).fetchone()["id"]
                started = time.monotonic()
                conn.execute("insert into drip.contact_tags values (%s, %s)", (c, tag))
                assert smtp.wait_for(i + 1, 10)
                latencies.append(smtp.handler.accept_times[i] - started)
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(15)
        smtp.stop()
        drop_db(base, "pgdrip_bench_latency")
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]
    return (Figure(f"0-hour step, INSERT committed -> SMTP accepted, p50 ({samples} samples)", median(latencies), "s",
                   target="<= 0.25 s"),
            Figure("0-hour step, INSERT committed -> SMTP accepted, p95", p95, "s", target="<= 0.5 s"))


def bench_memory(base: str, n: int, home: Path) -> Figure:
    dsn = fresh_db(base, "pgdrip_bench_memory")
    sink = SinkProcess()
    try:
        with connect(dsn) as conn:
            _queue(conn, n)
        # A wrapper process whose only child is the runner, so that RUSAGE_CHILDREN is the runner's peak
        # and not that of some earlier child of this process (the sinks).
        wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-m", "pgdrip", "run", "--once",
                              "--smtp", sink.url, "--log-level", "warning"], env=_env(dsn, home), check=True,
                             capture_output=True, text=True)
        peak_kb = int(out.stdout.strip())
        with connect(dsn) as conn:
            assert conn.execute("select count(*) n from drip.outbox where status = 'sent'").fetchone()["n"] == n
    finally:
        sink.stop()
        drop_db(base, "pgdrip_bench_memory")
    return Figure(f"runner peak RSS during a {n:,}-message drain", peak_kb / 1024, "MB", target="<= 80 MB")
