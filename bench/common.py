"""Shared by the benchmarks: a fresh migrated database, timing, and the result rows."""

import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "runner"), str(ROOT)]

from pgdrip.migrate import migrate  # noqa: E402


def server_dsn() -> str:
    """PGDRIP_BENCH_DSN, else the local PostgreSQL, else the embedded one."""
    dsn = os.environ.get("PGDRIP_BENCH_DSN")
    if dsn:
        return dsn
    local = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    try:
        psycopg.connect(local, connect_timeout=3).close()
        return local
    except psycopg.OperationalError:
        from pgdrip.embedded import start_embedded

        return start_embedded(ROOT / ".bench-home")


def fresh_db(base: str, name: str) -> str:
    with psycopg.connect(make_conninfo(base, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')
    dsn = make_conninfo(base, dbname=name)
    migrate(dsn)
    return dsn


def drop_db(base: str, name: str) -> None:
    with psycopg.connect(make_conninfo(base, dbname="postgres"), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, row_factory=dict_row)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# a target: "<= 1.2x" (the ratio to the baseline), "<= 80 MB", "p95 < 100 ms" (the value, in the
# figure's unit), "flat within 1.3x" (the ratio, at most); "(reference)": a figure with no target
_TARGET = re.compile(r"^(?:p\d+ |flat within )?(?P<op><=|<|>=|>)?\s*(?P<limit>[0-9.]+)\s*(?P<unit>\S+)$")
_COMPARE = {"<=": float.__le__, "<": float.__lt__, ">=": float.__ge__, ">": float.__gt__}


@dataclass
class Figure:
    """One measured figure. `name` is stable from run to run (bench/run.py matches rounds by it);
    what varies (throughputs, sample counts) goes in `detail`."""
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    # per-run ratios, when each run timed pgdrip and its baseline side by side (see paired)
    run_ratios: list[float] | None = None
    detail: str = ""

    @property
    def ratio(self) -> float | None:
        if self.run_ratios:
            return median(self.run_ratios)
        return self.value / self.baseline if self.baseline else None

    def met(self) -> bool | None:
        """Whether the target holds, computed from the figure; None when it has no target."""
        return target_met(self.target, self.value, self.unit, self.ratio)

    def row(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else "-"
        if self.run_ratios:  # how much the machine moved during the run
            ratio += f" (runs {min(self.run_ratios):.2f}-{max(self.run_ratios):.2f})"
        base = f"{self.baseline:.3f} {self.unit} ({self.baseline_name})" if self.baseline is not None else "-"
        name = f"{self.name} ({self.detail})" if self.detail else self.name
        return f"| {name} | {self.value:.3f} {self.unit} | {base} | {ratio} | {self.target} |"


def target_met(target: str, value: float, unit: str, ratio: float | None) -> bool | None:
    if not target or target.startswith("("):
        return None
    m = _TARGET.match(target.strip())
    if not m:
        raise ValueError(f"a target bench/common.py cannot judge: {target!r}")
    op = m["op"] or "<="
    if m["unit"] == "x":
        if ratio is None:
            raise ValueError(f"a ratio target without a baseline: {target!r}")
        return _COMPARE[op](float(ratio), float(m["limit"]))
    if m["unit"] != unit:
        raise ValueError(f"target {target!r} is not in the figure's unit {unit!r}")
    return _COMPARE[op](float(value), float(m["limit"]))


def median(values: list[float]) -> float:
    return statistics.median(values)


def paired(runs: int, reset: Callable[[], object], ours: Callable[[], object], theirs: Callable[[], object],
           check: Callable[[], object]) -> tuple[list[float], list[float], list[float]]:
    """Times pgdrip and its baseline side by side, alternating which goes first, so that a noisy
    neighbour falls on both; returns both timings and the per-run ratios. check runs
    after each of pgdrip's runs, untimed, to prove it did the work."""
    mine, base, ratios = [], [], []
    for i in range(runs):
        for side in ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours"):
            reset()
            if side == "ours":
                mine.append(timed(ours))
                check()
            else:
                base.append(timed(theirs))
        ratios.append(mine[-1] / base[-1])
    return mine, base, ratios
