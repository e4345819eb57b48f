"""The sequence form: HTML fields to the JSON drip.save_sequence takes, and the database's errors
back to the field they name. Nothing is checked, dropped or defaulted here: every value goes to
the database as typed (a ticked box as "on", an unticked one as false, an empty field as ""),
the database is the one judge of it, and a new form starts from drip.sequence_defaults() or
drip.prefab(), so the form, `pgdrip apply` and SQL refuse and default exactly the same things."""

import re
from dataclasses import dataclass, field

import psycopg
from starlette.datastructures import FormData

from ..errors import named_field
from .common import BadRequest

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
WEEKDAYS = (("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"), ("7", "Sun"))


class BadForm(BadRequest):
    """A form no page of ours sends (a step count that is not a number): answered 400."""


@dataclass
class StepForm:
    id: int | str | None = None  # a saved step's id; a new step has none
    delay_hours: str = ""
    subject: str = ""
    html_body: str = ""
    active: str | bool = True  # a ticked box's value ("on"), or False

    @classmethod
    def from_defaults(cls, defaults: dict) -> "StepForm":
        """A new step as drip.sequence_defaults() says the database makes one."""
        step = defaults["step"]
        return cls(None, _text(step.get("delay_hours")), _text(step.get("subject")), _text(step.get("html_body")),
                   bool(step.get("active")))


@dataclass
class SequenceForm:
    id: int | None = None
    values: dict = field(default_factory=dict)  # SETTINGS -> str
    active: str | bool = False
    send_days: list[str] = field(default_factory=list)
    steps: list[StepForm] = field(default_factory=list)
    preview_contact: str = ""

    @classmethod
    def from_row(cls, row: dict, steps: list[dict]) -> "SequenceForm":
        values = {k: _text(row.get(k)) for k in SETTINGS}
        for k in ("send_window_start", "send_window_end"):
            if row.get(k) is not None and hasattr(row[k], "strftime"):
                values[k] = row[k].strftime("%H:%M")
        return cls(id=row.get("id"), values=values, active=bool(row.get("active")),
                   send_days=[str(d) for d in row.get("send_days") or []],
                   steps=[StepForm(s.get("id"), _hours(s.get("delay_hours")), s["subject"], s["html_body"],
                                   bool(s.get("active"))) for s in steps])

    @classmethod
    def from_defaults(cls, defaults: dict) -> "SequenceForm":
        """A blank form: what drip.sequence_defaults() says a new sequence and step are."""
        return cls.from_row(defaults["sequence"], [defaults["step"]])

    @classmethod
    def from_prefab(cls, prefab: dict) -> "SequenceForm":
        """A prefab as drip.prefab() gives it, every setting included (active as SQL creates it)."""
        return cls.from_row(prefab["sequence"], prefab["steps"])

    @classmethod
    def from_post(cls, sequence_id: int | None, form: FormData) -> "SequenceForm":
        def text(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""

        def ticked(name: str) -> str | bool:
            return text(name) if name in form else False  # an unticked box is not sent at all

        count_text = text("step_count")
        if not re.fullmatch(r"[0-9]{1,9}", count_text or "0"):
            raise BadForm("step_count must be a whole number")
        # A step the form does not carry is sent as empty, and the database refuses it by its
        # position. (More steps than the form has fields cannot all be there: one is enough.)
        count = min(int(count_text or "0"), len(form) + 1)
        steps = [StepForm(_id(text(f"steps-{i}-id")), text(f"steps-{i}-delay_hours"), text(f"steps-{i}-subject"),
                          text(f"steps-{i}-html_body"), ticked(f"steps-{i}-active"))
                 for i in range(count)]
        days = [v for v in form.getlist("send_days") if isinstance(v, str)]
        return cls(id=sequence_id, values={k: text(k) for k in SETTINGS}, active=ticked("active"),
                   send_days=days, steps=steps, preview_contact=text("preview_contact").strip())

    def sequence_json(self) -> dict:
        settings: dict = {k: self.values.get(k, "") for k in SETTINGS}
        settings["active"] = self.active
        # no day ticked is no restriction: "" is NULL to drip.save_sequence, as for every field
        settings["send_days"] = self.send_days or ""
        return settings

    def steps_json(self) -> list[dict]:
        return [{"id": s.id, "delay_hours": s.delay_hours, "subject": s.subject,
                 "html_body": s.html_body, "active": s.active} for s in self.steps]

    def apply_op(self, op: str, defaults: dict | None = None) -> bool:
        """The step list's buttons (add, remove, up, down), done on what was typed; nothing is
        saved until Save. True if op was one of them. A new step is drip.sequence_defaults()'s."""
        if op == "add":
            if defaults is None:
                raise ValueError("adding a step needs drip.sequence_defaults()")
            self.steps.append(StepForm.from_defaults(defaults))
            return True
        match = re.fullmatch(r"(remove|up|down):([0-9]{1,9})", op)
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


def _id(value: str) -> int | str | None:
    """A step id as the database takes it (a JSON number); anything else goes as typed, and the
    database refuses it naming the step."""
    if value == "":
        return None
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else value


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _hours(value: object) -> str:
    text = _text(value)
    return text.rstrip("0").rstrip(".") if "." in text else text
