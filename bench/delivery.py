"""Runner-side figures: drain throughput, event-to-SMTP latency, runner memory."""

import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

from common import ROOT, Figure, connect, drop_db, fresh_db, median, timed

from tests.smtp_server import SmtpServer, free_port


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


def _queue(conn, n: int) -> None:
    conn.execute("insert into drip.contacts (email, first_name) select 'u' || g || '@example.com', 'Name' || g "
                 "from generate_series(1, %(n)s) g", {"n": n})
    sid = conn.execute("insert into drip.sequences (name, trigger_type) values ('drain', 'after_purchase') "
                       "returning id").fetchone()["id"]
    conn.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) values "
                  "(%s, 1, 'Hello {{FirstName}}', %s)", (sid, "<p>Hello {{FirstName}},</p>" + "<p>news</p>" * 20))
    conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                 "from drip.contacts")
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
    figure = Figure(f"drain {n:,} messages to aiosmtpd (separate process)", median(ours), "s", median(theirs),
                    "bare smtplib loop, one connection", "<= 0.6x")
    figure.name += f": {n / figure.value:.0f} msg/s vs {n / figure.baseline:.0f} msg/s"
    return figure


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
