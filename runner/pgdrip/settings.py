"""Runner configuration: flags, then PGDRIP_* environment variables, then defaults.

What changes a message's body (branding, the unsubscribe link) is published to the database
when the runner starts (drip.publish_mail_settings), which validates it and renders it into
every message; what only concerns delivery (the mail server, rate, workers) stays here. A runner
publishes only the settings it was given: one started without PGDRIP_PUBLIC_URL, say, leaves
the stored one as it is (`pgdrip mail-settings --clear` clears a setting)."""

import os
import socket
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import psycopg

from . import queries
from .embedded import pgdrip_home
from .errors import PgdripError, not_utf8


def _env_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise PgdripError(f"{name} must be a whole number, not {raw!r}") from None


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise PgdripError(f"{name} must be a number, not {raw!r}") from None


POLL_SECONDS = 300  # with LISTEN wake-ups, the poll is only a safety net
CITUS_POLL_SECONDS = 5  # on Citus it is how a 0-hour step enrolled by a write is found


@dataclass
class RunSettings:
    smtp_url: str | None = None
    from_address: str = "pgdrip <pgdrip@localhost>"
    home: Path = field(default_factory=pgdrip_home)
    # the safety-net poll; None: POLL_SECONDS, or CITUS_POLL_SECONDS on Citus (see poll_interval)
    poll_seconds: int | None = None
    workers: int = 4
    batch_size: int = 50
    lease_seconds: int = 300
    max_rate: float | None = None  # messages per second, all runners of the database together
    sweep_catchup_days: int = 7
    retention_days: int = 180  # 0 keeps everything
    unsubscribe_url: str | None = None  # template with {contact_id} and {token}, served by the user
    unsubscribe_secret: str | None = None
    public_url: str | None = None  # where recipients reach `pgdrip serve`: tracked links, one-click unsubscribe
    secret: str | None = None
    old_secrets: list[str] | None = None  # PGDRIP_OLD_SECRETS: earlier secrets whose links still verify
    unsubscribe_mailto: str | None = None
    dkim_key_file: str | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    brand_header: str | None = None  # None: not given, the stored branding stays
    brand_footer: str | None = None
    from_given: bool = False  # PGDRIP_FROM was set: its domain is published (Message-IDs, List-Ids)
    runner_name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    @classmethod
    def from_env(cls, **flags: object) -> "RunSettings":
        """Flags given (not None) win over the environment, which wins over defaults."""
        s = cls(
            smtp_url=os.environ.get("PGDRIP_SMTP_URL") or None,
            from_address=os.environ.get("PGDRIP_FROM") or cls.from_address,
            home=pgdrip_home(),
            poll_seconds=_env_int("PGDRIP_POLL_SECONDS", None),
            workers=_env_int("PGDRIP_WORKERS", 4),
            batch_size=_env_int("PGDRIP_BATCH_SIZE", 50),
            lease_seconds=_env_int("PGDRIP_LEASE_SECONDS", 300),
            max_rate=_env_float("PGDRIP_MAX_RATE"),
            sweep_catchup_days=_env_int("PGDRIP_SWEEP_CATCHUP_DAYS", 7),
            retention_days=_env_int("PGDRIP_RETENTION_DAYS", 180),
            unsubscribe_url=os.environ.get("PGDRIP_UNSUBSCRIBE_URL") or None,
            unsubscribe_secret=os.environ.get("PGDRIP_UNSUBSCRIBE_SECRET") or None,
            public_url=os.environ.get("PGDRIP_PUBLIC_URL") or None,
            secret=os.environ.get("PGDRIP_SECRET") or None,
            old_secrets=old_secrets_from_env(),
            unsubscribe_mailto=os.environ.get("PGDRIP_UNSUBSCRIBE_MAILTO") or None,
            dkim_key_file=os.environ.get("PGDRIP_DKIM_KEY_FILE") or None,
            dkim_selector=os.environ.get("PGDRIP_DKIM_SELECTOR") or None,
            dkim_domain=os.environ.get("PGDRIP_DKIM_DOMAIN") or None,
            brand_header=_read_optional(os.environ.get("PGDRIP_BRAND_HEADER")),
            brand_footer=_read_optional(os.environ.get("PGDRIP_BRAND_FOOTER")),
            from_given=bool(os.environ.get("PGDRIP_FROM")),
        )
        for key, value in flags.items():
            if value is not None:
                setattr(s, key, value)
        s.validate()
        return s

    def validate(self) -> None:
        if self.poll_seconds is not None and self.poll_seconds < 1:
            raise PgdripError("poll interval must be at least 1 second")
        if not 1 <= self.workers <= 64:
            raise PgdripError("workers must be between 1 and 64")
        if not 1 <= self.batch_size <= 10_000:
            raise PgdripError("batch size must be between 1 and 10000")
        if self.lease_seconds < 10:
            raise PgdripError("lease must be at least 10 seconds")
        if self.max_rate is not None and not 0 < self.max_rate <= 1_000_000:
            raise PgdripError("PGDRIP_MAX_RATE (--max-rate) must be more than 0 and at most 1000000 per second")
        if not 0 <= self.sweep_catchup_days <= 366:
            raise PgdripError("PGDRIP_SWEEP_CATCHUP_DAYS must be between 0 and 366")
        if not 0 <= self.retention_days <= 36500:
            raise PgdripError("PGDRIP_RETENTION_DAYS must be between 0 (keep everything) and 36500")
        if self.dkim_key_file:
            if not self.dkim_selector or not self.dkim_domain:
                raise PgdripError("PGDRIP_DKIM_KEY_FILE needs PGDRIP_DKIM_SELECTOR and PGDRIP_DKIM_DOMAIN")
            try:
                key = Path(self.dkim_key_file).read_bytes()
            except OSError as exc:
                raise PgdripError(f"cannot read PGDRIP_DKIM_KEY_FILE {self.dkim_key_file}: {exc.strerror}") from None
            if b"PRIVATE KEY" not in key:
                raise PgdripError(f"PGDRIP_DKIM_KEY_FILE {self.dkim_key_file} is not a PEM private key")

    def poll_interval(self, distributed: bool) -> int:
        """Seconds between the runner's own dispatches. On Citus nothing notifies from inside a
        shard, so mail enrolled by an application's write waits for this poll: it is short there."""
        if self.poll_seconds is not None:
            return self.poll_seconds
        return CITUS_POLL_SECONDS if distributed else POLL_SECONDS

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    def mail_settings(self) -> dict[str, object]:
        """What drip.publish_mail_settings stores and renders into every message: only the settings
        this runner was given (published with p_partial, so the others keep their stored values)."""
        published: dict[str, object] = {}
        if self.from_given:
            published["from_address"] = self.from_address
        for key in ("brand_header", "brand_footer", "unsubscribe_url", "unsubscribe_secret", "public_url", "secret",
                    "old_secrets", "unsubscribe_mailto"):
            if getattr(self, key) is not None:  # an empty branding file given: no branding
                published[key] = getattr(self, key)
        return published

    @cached_property
    def dkim(self) -> tuple[bytes, bytes, bytes] | None:
        """(private key, selector, domain) when DKIM signing is set up."""
        if not self.dkim_key_file:
            return None
        return (Path(self.dkim_key_file).read_bytes(), (self.dkim_selector or "").encode(),
                (self.dkim_domain or "").encode())


def verify_unsubscribe_token(conn: psycopg.Connection, secret: str, contact_id: int, token: str) -> bool:
    """For users who serve PGDRIP_UNSUBSCRIBE_URL themselves: whether token is contact_id's token
    under secret. The database answers (drip.check_unsubscribe_token), so the token is computed in
    one place only, the one that put it in the mail."""
    row = conn.execute(queries.CHECK_UNSUBSCRIBE_TOKEN, {"secret": secret, "contact": contact_id, "token": token}
                       ).fetchone()
    return bool(row[0] if not isinstance(row, dict) else row["valid"])


def old_secrets_from_env() -> list[str] | None:
    """PGDRIP_OLD_SECRETS: the secrets that were PGDRIP_SECRET before, separated by commas; links
    they signed keep verifying. None when it is not set (the stored list stays)."""
    raw = os.environ.get("PGDRIP_OLD_SECRETS")
    if not raw or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _read_optional(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PgdripError(f"cannot read branding file {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line, problem = not_utf8(exc)
        raise PgdripError(f"branding file {path}:{line}: {problem}") from None

