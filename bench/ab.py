"""Before and after: runs bench/run.py from two source trees in turn, on the same server, and
prints each figure's median (and its ratio to its same-run baseline) for both.

    git worktree add /tmp/pgdrip-before <commit>
    python bench/ab.py /tmp/pgdrip-before . --only core,campaigns --rounds 3

Each round runs the older tree, then the newer one (the order alternates between rounds), each
with its own sql/ and runner/ (PYTHONPATH), so the machine's drift falls on both alike.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROW = re.compile(r"^\| (?P<name>[^|]+?) \| (?P<value>[0-9.]+) (?P<unit>\S+) \| [^|]* \| (?P<ratio>[0-9.]+)x")


def run_tree(tree: Path, only: str, quick: bool) -> dict[str, tuple[float, float]]:
    """One run of the tree's bench/run.py: {figure: (value, ratio to its baseline)}."""
    env = dict(os.environ, PYTHONPATH=f"{tree / 'runner'}{os.pathsep}{tree}")
    cmd = [sys.executable, str(tree / "bench" / "run.py"), "--only", only, "--runs", "1"]
    if "--rounds" in (tree / "bench" / "run.py").read_text():  # trees that run several rounds: one here
        cmd += ["--rounds", "1"]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=True).stdout
    figures = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            figures[m["name"]] = (float(m["value"]), float(m["ratio"]))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--only", default="core,campaigns")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    seen: dict[str, dict[str, list[tuple[float, float]]]] = {"before": {}, "after": {}}
    for r in range(args.rounds):
        for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
            for name, got in run_tree(trees[side], args.only, args.quick).items():
                seen[side].setdefault(name, []).append(got)
    print(f"| figure | before (median of {args.rounds}) | after | after / before "
          "| ratio to baseline, before -> after |")
    print("|---|---|---|---|---|")
    for name in seen["before"]:
        if name not in seen["after"]:
            continue
        b = statistics.median(v for v, _ in seen["before"][name])
        a = statistics.median(v for v, _ in seen["after"][name])
        rb = statistics.median(r for _, r in seen["before"][name])
        ra = statistics.median(r for _, r in seen["after"][name])
        print(f"| {name} | {b:.3f} | {a:.3f} | {a / b:.2f} | {rb:.2f}x -> {ra:.2f}x |")


if __name__ == "__main__":
    main()
