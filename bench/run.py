"""Runs every benchmark and prints one table: each figure beside a baseline from the same run.

    python bench/run.py            # the full set (several minutes)
    python bench/run.py --quick    # smaller sizes, one run each
    python bench/run.py --only core,delivery
"""

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import admin  # noqa: E402
import campaigns  # noqa: E402
import core  # noqa: E402
import delivery  # noqa: E402
import web  # noqa: E402
from common import Figure, connect, server_dsn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is reported")
    parser.add_argument("--only", default="core,sweep,campaigns,delivery,web,admin",
                        help="comma list of: core, sweep, campaigns, delivery, web, admin")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    only = set(args.only.split(","))
    base = server_dsn()
    with connect(base) as conn:
        version = conn.execute("show server_version").fetchone()["server_version"]
    home = Path(tempfile.mkdtemp(prefix="pgdrip-bench-"))
    started = time.time()
    figures: list[Figure] = []

    def add(figure: Figure | list[Figure] | tuple[Figure, ...]) -> None:
        for f in figure if isinstance(figure, list | tuple) else [figure]:
            figures.append(f)
            print(f.row(), flush=True)

    print(f"pgdrip benchmarks: PostgreSQL {version}, Python {platform.python_version()}, "
          f"{platform.machine()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, median of {runs}")
    print("| figure | pgdrip | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    if "core" in only:
        add(core.bench_tagging(base, 20_000 if args.quick else 100_000, runs))
        add(core.bench_dispatch(base, 10_000 if args.quick else 50_000, runs))
        add(core.bench_history(base, 20_000, 200_000, runs))
        add(core.bench_scaling(base, [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000], runs))
    if "sweep" in only:
        add(core.bench_sweep(base, 200_000 if args.quick else 1_000_000, runs))
    if "campaigns" in only:
        add(campaigns.bench_dispatch_windows(base, 10_000 if args.quick else 50_000, runs))
        add(campaigns.bench_goal_exits(base, 20_000 if args.quick else 100_000, runs))
        add(campaigns.bench_step_report(base, 1_000_000 if args.quick else 10_000_000, 100_000))
        add(campaigns.bench_prune(base, 500_000 if args.quick else 5_000_000))
    if "delivery" in only:
        add(delivery.bench_drain(base, 3_000, runs, home))
        add(delivery.bench_drain_limit(base, 10_000 if args.quick else 30_000, runs, home))
        backlog = delivery.bench_drain_backlog(base, 100_000 if args.quick else 1_000_000,
                                               10_000 if args.quick else 100_000, 10_000, home)
        if backlog:
            add(backlog)
        add(delivery.bench_latency(base, 20 if args.quick else 40, home))
        add(delivery.bench_memory(base, 2_000 if args.quick else 10_000, home))
    if "web" in only:
        add(web.bench_redirects(base, runs, 5 if args.quick else 10))
    if "admin" in only:
        add(admin.bench_admin_pages(base, 100_000 if args.quick else 1_000_000, 1000, 10 if args.quick else 40))
    print(f"\n{len(figures)} figures in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
