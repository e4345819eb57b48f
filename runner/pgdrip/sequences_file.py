"""Sequences as code: read a TOML file, compare it with the database, apply the difference."""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from . import queries
from .errors import PgdripError, named_field, not_utf8

# a condition is a TOML table (entry_condition = { attribute = "plan", equals = "pro" }) or JSON
# text; "" is none. drip.check_condition judges it, as it does for the admin form and SQL.
CONDITION = (dict, str)
SEQUENCE_KEYS = {"name": str, "description": str, "trigger_type": str, "trigger_value": str, "active": bool,
                 "time_zone": str, "send_window_start": (str, time), "send_window_end": (str, time),
                 "send_days": list, "exit_trigger_type": str, "exit_trigger_value": str, "reentry": str,
                 "entry_condition": CONDITION, "exit_condition": CONDITION, "message_class": str, "topic": str,
                 "priority": int, "holdout_percent": (int, float), "step": list}
# the settings drip.save_sequence takes besides the name; a key the file leaves out is not sent, so
# the database keeps its value (or, for a new sequence, takes drip.sequence_defaults())
SETTINGS = ("description", "trigger_value", "active", "time_zone", "send_window_start", "send_window_end",
            "send_days", "exit_trigger_type", "exit_trigger_value", "reentry", "entry_condition", "exit_condition",
            "message_class", "topic", "priority", "holdout_percent")
STEP_KEYS = {"key": str, "delay_hours": (int, float), "subject": str, "html_body": str, "active": bool,
             "send_if": CONDITION, "wait_for_event": str, "control_weight": int, "variant": list}
# step keys sent only when the file gives them (drip.save_steps keeps the others' values)
STEP_OPTIONAL = ("send_if", "wait_for_event", "control_weight")
# a step's [[sequence.step.variant]] tables (drip.save_variants matches them by name)
VARIANT_KEYS = {"name": str, "subject": str, "html_body": str, "weight": int, "active": bool}


class LineMap:
    """Finds the line of a key inside the n-th [[sequence]] (or its m-th [[sequence.step]])."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[str, int]] = []
        for no, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if re.fullmatch(r"\[\[\s*sequence\s*\]\]", stripped):
                self.headers.append(("sequence", no))
            elif re.fullmatch(r"\[\[\s*sequence\.step\s*\]\]", stripped):
                self.headers.append(("step", no))

    def line(self, seq: int, step: int | None = None, key: str | None = None) -> int:
        seqs = [i for i, (k, _) in enumerate(self.headers) if k == "sequence"]
        if seq >= len(seqs):
            return 1
        start = seqs[seq]
        end = seqs[seq + 1] if seq + 1 < len(seqs) else len(self.headers)
        idx = start
        if step is not None:
            steps = [i for i in range(start + 1, end) if self.headers[i][0] == "step"]
            if step < len(steps):
                idx = steps[step]
        first = self.headers[idx][1]
        last = self.headers[idx + 1][1] - 1 if idx + 1 < len(self.headers) else len(self.lines)
        if key:
            for no in range(first, last + 1):
                if re.match(rf"\s*{re.escape(key)}\s*=", self.lines[no - 1]):
                    return no
        return first


@dataclass
class StepSpec:
    delay_hours: Decimal
    subject: str
    html_body: str
    active: bool = True
    key: str | None = None  # an identity that survives reordering (drip.save_steps)
    optional: dict = field(default_factory=dict)  # the STEP_OPTIONAL keys the file gives
    variants: list[dict] | None = None  # its [[sequence.step.variant]] tables, when it has any

    def as_json(self) -> dict:
        return {"key": self.key, "delay_hours": str(self.delay_hours), "subject": self.subject,
                "html_body": self.html_body, "active": self.active, **self.optional}


@dataclass
class SequenceSpec:
    index: int
    name: str
    trigger_type: str
    settings: dict = field(default_factory=dict)  # the SETTINGS the file gives, and only those
    steps: list[StepSpec] = field(default_factory=list)

    def as_json(self) -> dict:
        """What drip.save_sequence is given: the name, the trigger and the settings in the file."""
        return {"name": self.name, "trigger_type": self.trigger_type,
                **{k: v.isoformat() if isinstance(v, time) else v for k, v in self.settings.items()}}


class FileError(PgdripError):
    pass


def load(path: Path) -> tuple[list[SequenceSpec], LineMap]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line, problem = not_utf8(exc)
        raise FileError(f"{path}:{line}: {problem}") from None
    lines = LineMap(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"sequence"}
    if unknown:
        raise FileError(f"{path}:1: unknown top-level key(s): {', '.join(sorted(unknown))} (use [[sequence]])")
    raw = data.get("sequence", [])
    if not isinstance(raw, list) or not raw:
        raise FileError(f"{path}:1: no [[sequence]] tables found")
    specs: list[SequenceSpec] = []
    names: set[str] = set()

    def fail(i: int, step: int | None, key: str, message: str) -> FileError:
        return FileError(f"{path}:{lines.line(i, step, key)}: {key}: {message}")

    for i, seq in enumerate(raw):
        for key, value in seq.items():
            if key not in SEQUENCE_KEYS:
                raise fail(i, None, key, f"unknown key (use {', '.join(sorted(SEQUENCE_KEYS))})")
            if not isinstance(value, SEQUENCE_KEYS[key]):
                raise fail(i, None, key, "has the wrong type")
            if key == "send_days" and not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
                raise fail(i, None, key, "must be a list of ISO weekdays, 1 (Monday) to 7 (Sunday)")
        for key in ("name", "trigger_type"):
            if key not in seq:
                raise FileError(f"{path}:{lines.line(i)}: {key}: required in every [[sequence]]")
        if seq["name"] in names:
            raise fail(i, None, "name", f"sequence {seq['name']!r} appears twice in the file")
        names.add(seq["name"])
        spec = SequenceSpec(i, seq["name"], seq["trigger_type"], {k: seq[k] for k in SETTINGS if k in seq})
        for j, step in enumerate(seq.get("step", [])):
            for key, value in step.items():
                if key not in STEP_KEYS:
                    raise fail(i, j, key, f"unknown step key (use {', '.join(sorted(STEP_KEYS))})")
                if not isinstance(value, STEP_KEYS[key]) or (key == "delay_hours" and isinstance(value, bool)):
                    raise fail(i, j, key, "has the wrong type")
            for key in ("subject", "html_body"):
                if key not in step:
                    raise FileError(f"{path}:{lines.line(i, j)}: {key}: required in every [[sequence.step]]")
            for v, variant in enumerate(step.get("variant", [])):
                for key, value in variant.items():
                    if key not in VARIANT_KEYS or not isinstance(value, VARIANT_KEYS[key]):
                        raise fail(i, j, key, f"variant {v + 1}: unknown key or wrong type "
                                              f"(use {', '.join(sorted(VARIANT_KEYS))})")
                for key in ("name", "subject", "html_body"):
                    if key not in variant:
                        raise fail(i, j, "variant", f"variant {v + 1}: {key} is required")
            spec.steps.append(StepSpec(Decimal(str(step.get("delay_hours", 0))), step["subject"], step["html_body"],
                                       step.get("active", True), step.get("key"),
                                       {k: step[k] for k in STEP_OPTIONAL if k in step}, step.get("variant")))
        specs.append(spec)
    return specs, lines


def apply(conn: psycopg.Connection, path: Path, specs: list[SequenceSpec], lines: LineMap) -> list[str]:
    """Apply in the current transaction; returns the changes, one line each."""
    changes: list[str] = []
    for spec in specs:
        try:
            changes += _apply_one(conn, spec)
        except psycopg.Error as exc:
            column = named_field(exc.diag)
            step = re.search(r"\bstep: (\d+)", exc.diag.message_detail or "")  # drip.save_steps names the step
            where = lines.line(spec.index, int(step.group(1)) - 1 if step else None, column)
            message = exc.diag.message_primary or str(exc)
            hint = f"; hint: {exc.diag.message_hint}" if exc.diag.message_hint else ""
            raise FileError(f"{path}:{where}: {column or 'sequence'}: {message}{hint}") from None
    return changes


def _apply_one(conn: psycopg.Connection, spec: SequenceSpec) -> list[str]:
    found = conn.execute(queries.SEQUENCES_BY_NAME, {"name": spec.name}).fetchall()
    if len(found) > 1:
        raise PgdripError(f"more than one sequence is named {spec.name!r}; rename one before applying")
    before = found[0] if found else None
    # drip.save_sequence validates, fills what a new sequence leaves out, and keeps what an
    # existing one's file leaves out; the change report compares the row as it wrote it
    seq_id = conn.execute(queries.SAVE_SEQUENCE, {"id": before["id"] if before else None,
                                                  "sequence": Jsonb(spec.as_json())}).fetchone()["id"]
    if before is None:
        changes = [f"+ sequence {spec.name!r} ({len(spec.steps)} step(s))"]
    else:
        after = conn.execute(queries.SEQUENCE, {"id": seq_id}).fetchone()
        # a topic is given by name and kept as topic_id
        diff = [k for k in ("trigger_type", *SETTINGS)
                if before[k if k != "topic" else "topic_id"] != after[k if k != "topic" else "topic_id"]]
        changes = [f"~ sequence {spec.name!r}: {', '.join(diff)}"] if diff else []
    rows = conn.execute(queries.SAVE_STEPS, {"id": seq_id, "steps": Jsonb([st.as_json() for st in spec.steps])}
                        ).fetchall()
    if before is not None:
        changes += [line for row in rows if (line := describe_step_change(spec.name, row))]
    by_order = {row["new_order"]: row["step_id"] for row in rows}
    for order, step in enumerate(spec.steps, 1):
        if step.variants is not None:
            for row in conn.execute(queries.SAVE_VARIANTS, {"id": by_order[order], "variants": Jsonb(step.variants)}):
                if row["action"] != "unchanged" and before is not None:
                    changes.append(f"~ sequence {spec.name!r} step {order} variant {row['name']!r}: {row['action']}")
    return changes


def describe_step_change(name: str, row: dict) -> str | None:
    """One line per step that drip.save_steps changed, with its effect on in-flight enrollments."""
    action, order, was = row["action"], row["new_order"], row["old_order"]
    if action == "unchanged":
        return None
    what = f"sequence {name!r} step {order}"
    if action == "insert":
        effects = [f"{row['will_receive']} in-flight enrollment(s) will receive it" if row["will_receive"] else "",
                   f"{row['skipping']} in-flight enrollment(s) are past it and skip it" if row["skipping"] else ""]
        return f"+ {what}" + _effects(effects)
    if action == "deactivate":
        effect = f"; {row['skipping']} in-flight enrollment(s) will not receive it" if row["skipping"] else ""
        return f"- sequence {name!r} step {was} (deactivated, not in the file{effect})"
    parts = []
    if "move" in action:
        parts.append(f"moved from step {was}")
    if row["changed"]:
        parts.append(", ".join(row["changed"]))
    effects = []
    if row["will_receive"] and (row["changed"] or "move" in action):
        effects.append(f"{row['will_receive']} in-flight enrollment(s) will receive it"
                       + (" as edited" if row["changed"] else ""))
    return f"~ {what}: {'; '.join(parts)}" + _effects(effects)


def _effects(effects: list[str]) -> str:
    said = [e for e in effects if e]
    return f" ({', '.join(said)})" if said else ""
