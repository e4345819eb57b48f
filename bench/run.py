"""Runs every benchmark several times and writes bench/RESULTS.md: each figure beside a baseline
from the same run, the median and spread over the rounds, and whether its target is met, judged
here from the figures (never typed).

    python bench/run.py            # the full set, 3 rounds (about 15 minutes): writes bench/RESULTS.md
    python bench/run.py --quick    # smaller sizes, 1 round, 1 run per figure: prints only
    python bench/run.py --only core,delivery --results /tmp/part.md

With PGDRIP_CITUS_DSN set (a Citus coordinator), the full set also measures Citus beside one
server (bench/citus.py).
"""

import argparse
import datetime as dt
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import admin  # noqa: E402
import audience  # noqa: E402
import campaigns  # noqa: E402
import core  # noqa: E402
import delivery  # noqa: E402
import journeys  # noqa: E402
import web  # noqa: E402
from common import Figure, connect, server_dsn, target_met  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PARTS = ["core", "sweep", "campaigns", "journeys", "audience", "delivery", "web", "admin", "citus"]
GENERATED = "<!-- written by bench/run.py: do not edit by hand, the next run overwrites it -->"

# Why a target is not met: shown under the table for each figure whose target the medians miss.
# No figures here: the table has them.
NOTES: dict[str, str] = {
    r"^anniversary sweep over": (
        "Finding the day's contacts is an index lookup on `month_day`. The floor is writing the rows: the "
        "'floor' row is a bare INSERT of the same enrollments into a plain copy of the table (same indexes, "
        "no triggers), against the same scan. The rest goes on locking the day's contacts `FOR KEY SHARE` "
        "(so that a concurrent delete cannot leave an enrollment behind), the anti-joins against active and "
        "same-day enrollments, and the sort into lock order. Reaching the target would mean writing fewer "
        "rows or dropping indexes the dispatcher needs. The sweep runs once a day."),
    r"^dispatch [\d,]+ due$": (
        "Beyond the baseline: the `FOR UPDATE SKIP LOCKED` claim, the next-step lookups, the outbox probe, "
        "rendering with fallbacks and HTML escaping, and a commit every 1,000 rows. The baseline does plain "
        "`replace()` calls without escaping, in one transaction."),
    r"^longest dispatch batch": (
        "A prune deletes only finished mail and enrollments, rows dispatch never locks, and commits every "
        "batch (`test_prune_commits_batch_by_batch`). Beside it, dispatch shares the machine's cores and disk "
        "with the prune's deletes and the WAL and checkpoints they cause; this figure is the longest single "
        "batch, so one stall decides it."),
    r"^bulk tagging": (
        "Beyond the baseline's two INSERTs: the `FOR KEY SHARE` locks of the reference check, passing the "
        "events as arrays, the contacts lookup that skips unsubscribed contacts, and the sort into one lock "
        "order. A table lock taken by contact deletes could replace the row locks; it would serialise every "
        "delete with every tagging transaction, so it was not done."),
}


def one_round(base: str, only: set[str], quick: bool, runs: int, home: Path,
              add: Callable[[Figure | list[Figure] | tuple[Figure, ...] | None], None]) -> str:
    """Every selected benchmark once; returns text to append to the results (Citus's plans)."""
    appendix = ""
    if "core" in only:
        add(core.bench_tagging(base, 20_000 if quick else 100_000, runs))
        add(core.bench_dispatch(base, 10_000 if quick else 50_000, runs))
        add(core.bench_history(base, 20_000, 200_000, runs))
        add(core.bench_scaling(base, [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000], runs))
    if "sweep" in only:
        add(core.bench_sweep(base, 200_000 if quick else 1_000_000, runs))
    if "campaigns" in only:
        add(campaigns.bench_dispatch_windows(base, 10_000 if quick else 50_000, runs))
        add(campaigns.bench_goal_exits(base, 20_000 if quick else 100_000, runs))
        add(campaigns.bench_step_report(base, 1_000_000 if quick else 10_000_000, 100_000))
        add(campaigns.bench_prune(base, 500_000 if quick else 5_000_000))
    if "journeys" in only:
        add(journeys.bench_event_enrollment(base, 10_000 if quick else 100_000, 10, runs))
        add(journeys.bench_segment_update(base, 10_000 if quick else 100_000, 20, runs))
        add(journeys.bench_send_if_dispatch(base, 5_000 if quick else 50_000, runs))
        add(journeys.bench_wait_events(base, 10_000 if quick else 100_000, runs))
    if "audience" in only:
        add(audience.bench_capped_dispatch(base, 2_500 if quick else 25_000, runs))
        add(audience.bench_variant_dispatch(base, 5_000 if quick else 50_000, runs))
        add(audience.bench_variant_report(base, 1_000_000, runs))
    if "delivery" in only:
        add(delivery.bench_drain(base, 3_000, runs, home))
        add(delivery.bench_drain_limit(base, 10_000 if quick else 30_000, runs, home))
        add(delivery.bench_drain_backlog(base, 100_000 if quick else 1_000_000, 10_000 if quick else 100_000,
                                         10_000, home))
        add(delivery.bench_latency(base, 20 if quick else 40, home))
        add(delivery.bench_memory(base, 2_000 if quick else 10_000, home))
    if "web" in only:
        add(web.bench_redirects(base, runs, 5 if quick else 10))
    if "admin" in only:
        add(admin.bench_admin_pages(base, 100_000 if quick else 1_000_000, 1000, 10 if quick else 40))
    if "citus" in only and os.environ.get("PGDRIP_CITUS_DSN"):
        import citus

        figures, plans = citus.bench_citus(base, os.environ["PGDRIP_CITUS_DSN"], 20_000 if quick else 100_000,
                                           10_000 if quick else 50_000)
        add(figures)
        appendix = plans
    return appendix


def summarize(rounds: list[list[Figure]]) -> list[dict]:
    """One row per figure (matched by name over the rounds): medians, spreads, and the target
    judged on the medians and in each round."""
    rows: dict[str, dict] = {}
    for figures in rounds:
        for f in figures:
            row = rows.setdefault(f.name, {"figure": f, "values": [], "baselines": [], "ratios": [],
                                           "run_ratios": [], "met": []})
            row["values"].append(f.value)
            if f.baseline is not None:
                row["baselines"].append(f.baseline)
            if f.ratio is not None:
                row["ratios"].append(f.ratio)
            row["run_ratios"] += f.run_ratios or []
            row["met"].append(f.met())
    for row in rows.values():
        f: Figure = row["figure"]
        row["value"] = statistics.median(row["values"])
        row["baseline"] = statistics.median(row["baselines"]) if row["baselines"] else None
        row["ratio"] = statistics.median(row["ratios"]) if row["ratios"] else None
        row["verdict"] = target_met(f.target, row["value"], f.unit, row["ratio"])
        # the detail of the round whose value is nearest the median
        nearest = min(range(len(row["values"])), key=lambda i: abs(row["values"][i] - row["value"]))
        row["detail"] = [g for figures in rounds for g in figures if g.name == f.name][nearest].detail
    return list(rows.values())


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:#.3g}"


def _spread(values: list[float], fmt: Callable[[float], str]) -> str:
    return "" if len(values) < 2 else f" ({fmt(min(values))}–{fmt(max(values))})"


def table(rows: list[dict], rounds: int) -> str:
    lines = [f"| figure | pgdrip: median of {rounds} round(s) (min–max) | baseline, same run: median | "
             "ratio: median (min–max of every run) | target | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        f: Figure = row["figure"]
        name = f"{f.name} ({row['detail']})" if row["detail"] else f.name
        value = f"{_number(row['value'])} {f.unit}{_spread(row['values'], _number)}"
        base = f"{_number(row['baseline'])} {f.unit}: {f.baseline_name}" if row["baseline"] is not None else "—"
        ratio = "—"
        if row["ratio"] is not None:
            every = row["run_ratios"] or row["ratios"]
            ratio = f"{row['ratio']:.2f}x" + _spread(every, lambda x: f"{x:.2f}")
        met = "—" if row["verdict"] is None else "yes" if row["verdict"] else "no"
        if row["verdict"] is not None and len(row["met"]) > 1:
            met += f" ({sum(bool(m) for m in row['met'])} of {len(row['met'])} rounds)"
        lines.append(f"| {name} | {value} | {base} | {ratio} | {f.target or '—'} | {met} |")
    return "\n".join(lines)


def not_met(rows: list[dict]) -> str:
    missed = [row for row in rows if row["verdict"] is False]
    if not missed:
        return "Every target is met on the medians."
    out = []
    for row in missed:
        name = row["figure"].name
        note = next((text for pattern, text in NOTES.items() if re.search(pattern, name)), "No analysis yet.")
        out.append(f"- **{name}** ({row['figure'].target}): {note}")
    return "\n".join(out)


def environment(base: str) -> str:
    with connect(base) as conn:
        version = conn.execute("show server_version").fetchone()["server_version"]
        settings = ", ".join(f"{name} {conn.execute(f'show {name}').fetchone()[name]}"
                             for name in ("shared_buffers", "work_mem", "max_wal_size", "jit"))
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 1024 / 1024:.0f} GB of RAM"
    except (OSError, AttributeError):
        pass
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{os.cpu_count()} cores{memory}, {platform.machine()}, Python {platform.python_version()}; "
            f"PostgreSQL {version} ({settings}); load average {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each, one round")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure in each round [default: 5]")
    parser.add_argument("--rounds", type=int, help="rounds of the whole set [default: 3; 1 with --quick]")
    parser.add_argument("--only", default=",".join(PARTS), help="comma list of: " + ", ".join(PARTS))
    parser.add_argument("--results", type=Path,
                        help="write the results here [default: bench/RESULTS.md, for a full run of every part]")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    rounds = args.rounds or (1 if args.quick else 3)
    only = set(args.only.split(","))
    unknown = only - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    full = not args.quick and only == set(PARTS)
    results = args.results or (RESULTS if full else None)
    base = server_dsn()
    home = Path(tempfile.mkdtemp(prefix="pgdrip-bench-"))
    started = time.time()
    when = dt.datetime.now(dt.UTC)
    start_environment = environment(base)
    print(f"pgdrip benchmarks: {start_environment}; {when:%Y-%m-%d %H:%M} UTC; {rounds} round(s), "
          f"median of {runs} run(s) per figure in each")
    measured: list[list[Figure]] = []
    appendix = ""
    for r in range(rounds):
        print(f"\nround {r + 1} of {rounds}\n| figure | pgdrip | baseline (same run) | ratio | target |\n"
              "|---|---|---|---|---|", flush=True)
        measured.append([])

        def add(figure: Figure | list[Figure] | tuple[Figure, ...] | None) -> None:
            for f in figure if isinstance(figure, list | tuple) else [figure] if figure else []:
                measured[-1].append(f)
                print(f.row(), flush=True)

        appendix = one_round(base, only, args.quick, runs, home, add) or appendix
    rows = summarize(measured)
    took = time.time() - started
    command = "python bench/run.py" + " ".join(
        [""] + (["--quick"] if args.quick else []) + ([f"--only {args.only}"] if only != set(PARTS) else [])
        + ([f"--rounds {rounds}"] if args.rounds else []) + ([f"--runs {runs}"] if args.runs != 5 else []))
    text = "\n".join([
        GENERATED,
        "# Benchmark results",
        "",
        f"`{command}`, {when:%Y-%m-%d %H:%M} UTC, {took:.0f} s. At the start: {start_environment}. At the end: "
        f"{environment(base)}. "
        f"{'Quick sizes. ' if args.quick else ''}Each figure was measured in {rounds} round(s) of the whole set, "
        f"each round the median of {runs} run(s); the table gives the median over the rounds and, in brackets, "
        "the lowest and highest round (for a ratio, the lowest and highest single run). Figures timed side by "
        "side with their baseline alternate which goes first. A target is judged on the medians; 'k of n "
        "rounds' says how often a single round met it. This file is written by `bench/run.py` and nothing "
        "else; `bench/HISTORY.md` tells what changed to get here.",
        "",
        table(rows, rounds),
        "",
        "## Targets not met, and why",
        "",
        not_met(rows),
    ] + ([
        "",
        "## Citus: EXPLAIN of the dispatch and claim rounds",
        "",
        "One task per shard, each run on the worker that holds the shard (see docs/SCALE_OUT.md).",
        "",
        "```",
        appendix,
        "```",
    ] if appendix else [])) + "\n"
    print("\n" + text)
    if results:
        results.write_text(text)
        print(f"written to {results}")


if __name__ == "__main__":
    main()
