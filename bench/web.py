"""`pgdrip serve` figures: tracked-link redirects per second (the click recorded) against a bare
Starlette app returning the same redirect without a database, on the same uvicorn; and the
latency percentiles at a steady 200 requests a second. wrk (Debian's) for throughput, hey
(Debian's) for the steady rate; both stay on the loopback address and run for a bounded time."""

import os
import re
import shutil
import subprocess
import sys
import time

import httpx
from common import ROOT, Figure, connect, drop_db, fresh_db, median
from psycopg.types.json import Jsonb

from tests.smtp_server import free_port

BARE_APP = '''
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route
target = sys.argv[2]
async def link(request):
    return RedirectResponse(target, status_code=302, headers={"Referrer-Policy": "no-referrer"})
uvicorn.run(Starlette(routes=[Route("/c/{token}", link)]), host="127.0.0.1", port=int(sys.argv[1]),
            log_config=None, access_log=False, server_header=False)
'''


def _wait(url: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"{url}: no answer")


def _wrk(url: str, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", url], capture_output=True, text=True,
                         check=True).stdout
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))


def _steady(url: str, rate: int, seconds: int) -> dict[str, float]:
    """hey (Debian's): 4 connections at rate/4 requests a second each, redirects not followed; the
    latency percentiles it prints, in milliseconds. (hey's workers tick together: with 20 of them
    every request of a tick arrives at once, and the queue of 20 is what gets measured.)"""
    workers = 4
    out = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(workers), "-q", str(rate / workers),
                          "-disable-redirects", url], capture_output=True, text=True, check=True).stdout
    percent = {int(p): float(s) * 1000 for p, s in re.findall(r"\s(\d+)% in ([0-9.]+) secs", out)}
    return {"p50": percent[50], "p99": percent[99],
            "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1)),
            "non_redirects": sum(int(n) for code, n in re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
                                 if code != "302")}


def bench_redirects(base: str, runs: int, seconds: int = 10) -> list[Figure]:
    if not shutil.which("wrk") or not shutil.which("hey"):
        print("(skipped the redirect figures: they need wrk and hey: apt-get install wrk hey)")
        return []
    serve_port, bare_port = free_port(), free_port()
    public = f"http://127.0.0.1:{serve_port}"
    dsn = fresh_db(base, "pgdrip_bench_web")
    with connect(dsn) as conn:
        conn.execute("select drip.publish_mail_settings(%s)", (Jsonb({"public_url": public, "secret": "b" * 24}),))
        sid = conn.execute("insert into drip.sequences (name, trigger_type) values ('w', 'after_purchase') "
                           "returning id").fetchone()["id"]
        conn.execute("insert into drip.sequence_steps (sequence_id, step_order, subject, html_body) values "
                     "(%s, 1, 'Hi', '<p><a href=\"https://example.com/landing\">go</a></p>')", (sid,))
        conn.execute("insert into drip.contacts (email) values ('a@example.com')")
        conn.execute("select drip.enroll_events('after_purchase', array_agg(id), array_agg(null::text)) "
                     "from drip.contacts")
        conn.execute("call drip.dispatch_due()")
        conn.execute("update drip.outbox set status = 'sent', sent_at = now() - interval '1 hour'")
        html = conn.execute("select html_body from drip.outbox").fetchone()["html_body"]
    path = re.findall(r'href="http://127\.0\.0\.1:\d+(/c/[^"]+)"', html)[1]  # [0] is the honeypot
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
    serve = subprocess.Popen([sys.executable, "-m", "pgdrip", "serve", "--port", str(serve_port), "--log-level",
                              "warning"], env={**env, "PGDRIP_DSN": dsn, "PYTHONPATH": str(ROOT / "runner")},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port), "https://example.com/landing"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours, theirs, ratios = [], [], []
    try:
        _wait(f"{public}/healthz", serve)
        _wait(f"http://127.0.0.1:{bare_port}/", bare)
        assert httpx.get(f"{public}{path}").status_code == 302
        for i in range(runs):
            pair = {}
            for side in (["ours", "theirs"] if i % 2 == 0 else ["theirs", "ours"]):
                port = serve_port if side == "ours" else bare_port
                pair[side] = _wrk(f"http://127.0.0.1:{port}{path}", seconds)
            ours.append(pair["ours"])
            theirs.append(pair["theirs"])
            ratios.append(pair["ours"] / pair["theirs"])
        steady = _steady(f"{public}{path}", 200, 20)
        with connect(dsn) as conn:
            recorded = conn.execute("select count(*) n from drip.clicks").fetchone()["n"]
    finally:
        serve.terminate()
        bare.terminate()
        serve.wait(15)
        bare.wait(15)
        drop_db(base, "pgdrip_bench_web")
    assert recorded > sum(ours) * seconds * 0.5, recorded  # every redirect recorded its click
    print(f"(steady 200/s: {steady['rps']:.0f} req/s served, {steady['non_redirects']} answers other than 302, "
          f"{recorded:,} clicks recorded in all)")
    return [Figure("tracked-link redirects per second, click recorded (pgdrip serve, 1 worker)", median(ours),
                   "req/s", median(theirs), "bare Starlette redirect, same uvicorn, no database", ">= 0.5x",
                   ratios),
            Figure("tracked-link latency at a steady 200 req/s, p99", steady["p99"], "ms", target="p99 < 20 ms",
                   detail=f"p50 {steady['p50']:.0f} ms")]
