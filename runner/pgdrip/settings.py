"""Runner configuration: flags, then PGDRIP_* environment variables, then defaults."""

import hashlib
import hmac
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from .embedded import pgdrip_home
from .errors import PgdripError


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise PgdripError(f"{name} must be a whole number, not {raw!r}") from None


@dataclass
class RunSettings:
    smtp_url: str | None = None
    from_address: str = "pgdrip <pgdrip@localhost>"
    home: Path = field(default_factory=pgdrip_home)
    poll_seconds: int = 300
    workers: int = 4
    batch_size: int = 50
    lease_seconds: int = 300
    unsubscribe_url: str | None = None  # template with {contact_id} and {token}
    unsubscribe_secret: str | None = None
    brand_header: str = ""
    brand_footer: str = ""
    runner_name: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    @classmethod
    def from_env(cls, **flags: object) -> "RunSettings":
        """Flags given (not None) win over the environment, which wins over defaults."""
        s = cls(
            smtp_url=os.environ.get("PGDRIP_SMTP_URL") or None,
            from_address=os.environ.get("PGDRIP_FROM") or cls.from_address,
            home=pgdrip_home(),
            poll_seconds=_env_int("PGDRIP_POLL_SECONDS", 300),
            workers=_env_int("PGDRIP_WORKERS", 4),
            batch_size=_env_int("PGDRIP_BATCH_SIZE", 50),
            lease_seconds=_env_int("PGDRIP_LEASE_SECONDS", 300),
            unsubscribe_url=os.environ.get("PGDRIP_UNSUBSCRIBE_URL") or None,
            unsubscribe_secret=os.environ.get("PGDRIP_UNSUBSCRIBE_SECRET") or None,
            brand_header=_read_optional(os.environ.get("PGDRIP_BRAND_HEADER")),
            brand_footer=_read_optional(os.environ.get("PGDRIP_BRAND_FOOTER")),
        )
        for key, value in flags.items():
            if value is not None:
                setattr(s, key, value)
        s.validate()
        return s

    def validate(self) -> None:
        if self.poll_seconds < 1:
            raise PgdripError("poll interval must be at least 1 second")
        if not 1 <= self.workers <= 64:
            raise PgdripError("workers must be between 1 and 64")
        if not 1 <= self.batch_size <= 10_000:
            raise PgdripError("batch size must be between 1 and 10000")
        if self.lease_seconds < 10:
            raise PgdripError("lease must be at least 10 seconds")
        if self.unsubscribe_url:
            if "{token}" not in self.unsubscribe_url or "{contact_id}" not in self.unsubscribe_url:
                raise PgdripError("PGDRIP_UNSUBSCRIBE_URL must contain {contact_id} and {token}")
            if not self.unsubscribe_secret or len(self.unsubscribe_secret) < 16:
                raise PgdripError(
                    "PGDRIP_UNSUBSCRIBE_SECRET (16 characters or more) is required with PGDRIP_UNSUBSCRIBE_URL"
                )

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    def unsubscribe_link(self, contact_id: int) -> str | None:
        if not self.unsubscribe_url or not self.unsubscribe_secret:
            return None
        return self.unsubscribe_url.format(contact_id=contact_id, token=unsubscribe_token(self.unsubscribe_secret,
                                                                                         contact_id))


def unsubscribe_token(secret: str, contact_id: int) -> str:
    """A per-contact token nobody can compute without the secret (HMAC-SHA256)."""
    return hmac.new(secret.encode(), f"unsubscribe:{contact_id}".encode(), hashlib.sha256).hexdigest()[:32]


def verify_unsubscribe_token(secret: str, contact_id: int, token: str) -> bool:
    return hmac.compare_digest(unsubscribe_token(secret, contact_id), token)


def _read_optional(path: str | None) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise PgdripError(f"cannot read branding file {path}: {exc.strerror}") from None
