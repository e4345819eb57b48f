"""The sequence form: HTML fields to the JSON drip.save_sequence takes, and the database's errors
back to the field they name. Nothing is checked here: the database is the one judge of a value,
so the form, `pgdrip apply` and SQL refuse exactly the same things."""

import re
from dataclasses import dataclass, field

import psycopg
from starlette.datastructures import FormData

from ..errors import named_field

SETTINGS = ("name", "description", "trigger_type", "trigger_value", "time_zone", "send_window_start",
            "send_window_end", "exit_trigger_type", "exit_trigger_value", "reentry")
TRIGGER_TYPES = ("tag_added", "group_added", "anniversary", "after_purchase", "after_first_click")
TRIGGER_HINTS = {
    "tag_added": "The tag's name: contacts who get this tag are enrolled. Empty: any tag.",
    "group_added": "The group's id (digits): contacts who join this group are enrolled. Empty: any group.",
    "anniversary": "birthday or created: enrolled each year on the contact's birthday or sign-up date.",
    "after_purchase": "A product name. Empty: any purchase.",
    "after_first_click": "A mailing id, or step:ID for a first click in that step's mail. Empty: any first click.",
}
WEEKDAYS = ((1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun"))
MAX_STEPS = 100


@dataclass
class StepForm:
    id: int | None = None
    delay_hours: str = "0"
    subject: str = ""
    html_body: str = ""
    active: bool = True


@dataclass
class SequenceForm:
    id: int | None = None
    values: dict = field(default_factory=dict)  # SETTINGS -> str
    active: bool = False
    send_days: list[int] = field(default_factory=list)
    steps: list[StepForm] = field(default_factory=list)
    preview_contact: str = ""

    @classmethod
    def from_row(cls, row: dict, steps: list[dict]) -> "SequenceForm":
        values = {k: "" if row.get(k) is None else str(row[k]) for k in SETTINGS}
        for k in ("send_window_start", "send_window_end"):
            if row.get(k) is not None:
                values[k] = row[k].strftime("%H:%M")
        return cls(id=row.get("id"), values=values, active=bool(row.get("active")),
                   send_days=list(row.get("send_days") or []),
                   steps=[StepForm(s.get("id"), _hours(s.get("delay_hours", 0)), s["subject"], s["html_body"],
                                   bool(s.get("active", True))) for s in steps])

    @classmethod
    def from_prefab(cls, prefab: dict) -> "SequenceForm":
        # a prefab starts inactive: it enrolls nobody until someone has read it and switched it on
        row = {**prefab["sequence"], "active": False, "time_zone": "UTC", "reentry": "after_completion"}
        return cls.from_row(row, prefab["steps"])

    @classmethod
    def from_post(cls, sequence_id: int | None, form: FormData) -> "SequenceForm":
        def text(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        count = min(_int(text("step_count")) or 0, MAX_STEPS)
        steps = [StepForm(_int(text(f"steps-{i}-id")), text(f"steps-{i}-delay_hours"), text(f"steps-{i}-subject"),
                          text(f"steps-{i}-html_body"), text(f"steps-{i}-active") == "on")
                 for i in range(count)]
        days = sorted({d for v in form.getlist("send_days") if isinstance(v, str) and (d := _int(v)) in range(1, 8)})
        return cls(id=sequence_id, values={k: text(k) for k in SETTINGS}, active=text("active") == "on",
                   send_days=days, steps=steps, preview_contact=text("preview_contact").strip())

    def sequence_json(self) -> dict:
        settings: dict = {k: self.values.get(k, "") for k in SETTINGS}
        settings["name"] = settings["name"].strip()
        settings["active"] = self.active
        settings["send_days"] = self.send_days or None
        return settings

    def steps_json(self) -> list[dict]:
        return [{"id": s.id, "delay_hours": s.delay_hours.strip() or "0", "subject": s.subject,
                 "html_body": s.html_body, "active": s.active} for s in self.steps]

    def apply_op(self, op: str) -> bool:
        """The step list's buttons (add, remove, up, down), done on what was typed; nothing is
        saved until Save. True if op was one of them."""
        if op == "add" and len(self.steps) < MAX_STEPS:
            last = self.steps[-1].delay_hours if self.steps else "0"
            self.steps.append(StepForm(delay_hours="24" if self.steps else last))
            return True
        match = re.fullmatch(r"(remove|up|down):(\d{1,3})", op)
        if not match:
            return False
        action, i = match.group(1), int(match.group(2))
        if i >= len(self.steps):
            return True
        if action == "remove":
            del self.steps[i]
        elif action == "up" and i > 0:
            self.steps[i - 1], self.steps[i] = self.steps[i], self.steps[i - 1]
        elif action == "down" and i + 1 < len(self.steps):
            self.steps[i + 1], self.steps[i] = self.steps[i], self.steps[i + 1]
        return True


@dataclass
class FieldError:
    field: str  # the form field's name (steps-2-subject), or "" for the form as a whole
    message: str
    hint: str = ""
    sqlstate: str = ""


def field_error(exc: psycopg.Error) -> FieldError:
    """The form field a database error names: the column (diag), and for a step the position
    drip.save_steps puts in the detail ("field: subject; step: 2")."""
    diag = exc.diag
    column = named_field(diag)
    step = re.search(r"\bstep: (\d+)", diag.message_detail or "")
    if step:
        part = column if column in ("delay_hours", "subject", "html_body", "active") else "subject"
        name = f"steps-{int(step.group(1)) - 1}-{part}"
    elif column in SETTINGS or column in ("active", "send_days"):
        name = column
    elif column.startswith("exit_trigger") or column.startswith("trigger"):
        name = column if column in SETTINGS else "trigger_value"
    else:
        name = ""
    message = diag.message_primary or str(exc).splitlines()[0]
    return FieldError(name, message, diag.message_hint or "", diag.sqlstate or "")


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


def _hours(value: object) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text
