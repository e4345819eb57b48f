"""The docs say only what is so: every test they name exists, every setting they name is read
by the code, the lists they quote match the test that asserts them, and bench/RESULTS.md is
the script's output, its verdicts agreeing with its own figures."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
sys.path.insert(0, str(ROOT / "bench"))


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in DOCS)


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.add(path.stem)
        names |= set(re.findall(r"^(?:async )?def (test_\w+)", path.read_text(), re.M))
    return names


def test_every_test_the_docs_name_exists():
    known = _test_names()
    missing = []
    for m in re.finditer(r"\b(test_[a-z0-9_]+)(\.\.\.)?", _docs_text()):
        name, prefix = m.group(1), m.group(2)
        if prefix and any(k.startswith(name) for k in known):
            continue
        if name not in known:
            missing.append(name)
    assert missing == []


def test_every_setting_the_docs_name_is_read_by_the_code():
    code = "\n".join(p.read_text() for d in ("runner", "tests", "bench") for p in (ROOT / d).rglob("*.py"))
    code += (ROOT / ".ci" / "run").read_text()
    named = set(re.findall(r"\bPGDRIP_[A-Z_]+[A-Z]", _docs_text()))
    assert len(named) > 20
    assert {n for n in named if n not in code} == set()


def test_reliability_quotes_the_privilege_lists_the_test_asserts():
    from tests.integration.test_privileges import SECURITY_DEFINER, UNPINNED

    text = " ".join((ROOT / "docs" / "RELIABILITY.md").read_text().split())
    numbers = {"twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "twenty": 20,
               "twenty-one": 21, "twenty-two": 22, "twenty-three": 23, "twenty-seven": 27, "twenty-nine": 29,
               "thirty": 30}
    unpinned = re.search(r"except these ([a-z-]+), which qualify every name: (.*?)\. ([A-Z][a-z-]+) are SECURITY "
                         r"DEFINER, each a narrow entry point: (.*?)\. PUBLIC", text)
    assert unpinned, "the paragraph that quotes the lists"
    count, names, definer_count, definer_names = unpinned.groups()
    assert numbers[count] == len(UNPINNED) and sorted(re.findall(r"`(\w+)`", names)) == UNPINNED
    assert numbers[definer_count.lower()] == len(SECURITY_DEFINER)
    assert sorted(re.findall(r"`(\w+)`", definer_names)) == SECURITY_DEFINER


def test_bench_results_are_written_by_run_py_and_met_agrees_with_the_figures():
    from common import target_met
    from run import GENERATED

    lines = (ROOT / "bench" / "RESULTS.md").read_text().splitlines()
    assert lines[0] == GENERATED
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| figure")]
    judged = 0
    for row in rows:
        _, value, _, ratio, target, met = [c.strip() for c in row.strip("|").split(" | ")]
        if met == "—":
            assert target == "—" or target.startswith("("), row
            continue
        number, unit = value.split()[:2]
        median = float(number.replace(",", ""))
        r = float(ratio.split("x")[0]) if ratio != "—" else None
        verdict = target_met(target, median, unit, r)
        limit = float(re.search(r"([0-9.]+)\s*\S+$", target).group(1))
        on_the_line = (r if target.rstrip().endswith("x") else median) == limit  # rounded to the limit
        assert met.startswith("yes" if verdict else "no") or on_the_line, row
        judged += 1
    assert judged >= 10
