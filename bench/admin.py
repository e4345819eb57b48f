"""Admin page times at 1,000 sequences and 1,000,000 enrollments: the server's own time per
request (from `pgdrip serve`'s access log), p50 and p95 over repeated GETs of each page, beside
/healthz (one trivial query) through the same server as the floor. Half of the enrollments are
spread over 999 sequences, half are in one: the worst case for its enrollment pages and counts."""

import os
import re
import subprocess
import sys
import time

import httpx
from common import ROOT, Figure, connect, drop_db, fresh_db

from tests.smtp_server import free_port

PASSWORD = "bench-admin-password"
DATA = """
insert into drip.sequences (name, trigger_type, trigger_value, active)
select 'Sequence ' || g, 'tag_added', 'tag' || g, g %% 10 <> 0 from generate_series(1, %(sequences)s) g;
insert into drip.sequence_steps (sequence_id, step_order, delay_hours, subject, html_body)
select s.id, k, k * 24, 'Subject ' || k, '<p>Hello {{FirstName|there}}</p>'
from drip.sequences s, generate_series(1, 3) k;
insert into drip.contacts (email, first_name) select 'c' || g || '@example.com', 'C' || g
from generate_series(1, %(big)s) g;
-- one big sequence: every contact
insert into drip.enrollments (sequence_id, contact_id, status, last_step_order_sent, next_step_due_at)
select 1, c.id, case when c.id %% 7 = 0 then 'completed' when c.id %% 31 = 0 then 'cancelled' else 'active' end,
       c.id %% 3,
       case when c.id %% 7 = 0 or c.id %% 31 = 0 then null else now() + (c.id %% 1000) * interval '1 minute' end
from drip.contacts c;
-- and the rest spread over the others
insert into drip.enrollments (sequence_id, contact_id, status, last_step_order_sent, next_step_due_at)
select 2 + g %% (%(sequences)s - 1), 1 + (g / (%(sequences)s - 1)),
       case when g %% 7 = 0 then 'completed' else 'active' end,
       g %% 3, case when g %% 7 = 0 then null else now() + (g %% 1000) * interval '1 minute' end
from generate_series(0, %(spread)s - 1) g;
"""


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def bench_admin_pages(base: str, enrollments: int = 1_000_000, sequences: int = 1000,
                      requests: int = 40) -> list[Figure]:
    dsn = fresh_db(base, "pgdrip_bench_admin")
    big = enrollments // 2
    with connect(dsn) as conn:
        conn.execute("set session_replication_role = replica")  # bulk load: no enrollment triggers
        for statement in DATA.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"sequences": sequences, "big": big, "spread": enrollments - big})
        conn.execute("set session_replication_role = origin")
        conn.execute("vacuum analyze")
        last = conn.execute("select contact_id, id from drip.enrollments where sequence_id = 1 "
                            "order by contact_id desc, id desc offset 30 limit 1").fetchone()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
    serve = subprocess.Popen([sys.executable, "-m", "pgdrip", "serve", "--port", str(port)],
                             env={**env, "PGDRIP_DSN": dsn, "PGDRIP_ADMIN_PASSWORD": PASSWORD,
                                  "PYTHONPATH": str(ROOT / "runner")},
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log: list[str] = []
    pages = {
        "sequence list (by name)": "/admin/sequences",
        "sequence list (by active enrollments)": "/admin/sequences?sort=enrollments&dir=desc",
        "sequence list (name filter)": "/admin/sequences?q=Sequence+99",
        f"enrollments, {big:,}-enrollment sequence, first page": "/admin/sequences/1/enrollments",
        "enrollments, same, last page (keyset)":
            f"/admin/sequences/1/enrollments?after={last['contact_id']}-{last['id']}",
        "enrollments, same, status active": "/admin/sequences/1/enrollments?status=active",
        "enrollments, same, status cancelled": "/admin/sequences/1/enrollments?status=cancelled",
        "enrollments, same, one email": "/admin/sequences/1/enrollments?email=c4242%40example.com",
        "cancel confirmation (count of the big sequence's active enrollments)":
            "/admin/sequences/1/enrollments/cancel?status=active",
        f"enrollments, {(enrollments - big) // (sequences - 1):,}-enrollment sequence":
            "/admin/sequences/500/enrollments",
        f"contact (1 of {big:,}, 2 enrollments)": "/admin/contacts/4242",
        "outbox and health": "/admin/outbox",
    }
    figures = []
    try:
        base_url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        client = httpx.Client(base_url=base_url)
        form = client.get("/admin/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        signed_in = client.post("/admin/login", data={"user": "admin", "password": PASSWORD, "csrf": csrf})
        assert signed_in.status_code == 303
        for path in ["/healthz", *pages.values()]:
            for _ in range(requests):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
        serve.terminate()
        out, _ = serve.communicate(timeout=15)
        log = out.splitlines()
    finally:
        if serve.poll() is None:
            serve.kill()
        drop_db(base, "pgdrip_bench_admin")
    # one access-log line per request, in the order they were made: /healthz first, then each page
    access = re.compile(r"pgdrip.serve.access: GET \S+ 200 ([0-9.]+)ms$")
    served = [float(m.group(1)) for line in log if (m := access.search(line))]
    assert len(served) >= (len(pages) + 1) * requests, len(served)
    served = served[-(len(pages) + 1) * requests:]
    floor = _percentile(served[:requests], 0.95)
    for k, name in enumerate(pages, 1):
        times = served[k * requests:(k + 1) * requests]
        figures.append(Figure(f"admin: {name}, p95", _percentile(times, 0.95), "ms", floor, "/healthz p95, same server",
                              "p95 < 100 ms", detail=f"p50 {_percentile(times, 0.5):.0f} ms"))
    return figures
