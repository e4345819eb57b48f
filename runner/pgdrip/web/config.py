"""`pgdrip serve` configuration: flags, then PGDRIP_* environment variables, then defaults."""

import ipaddress
import os
import re
from dataclasses import dataclass, field

from ..errors import PgdripError
from ..settings import _env_int, old_secrets_from_env

# who may read /metrics unless PGDRIP_METRICS_ALLOW says otherwise: this machine and private networks
DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

_LOCAL_HTTP = re.compile(r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?(/.*)?$", re.IGNORECASE)


@dataclass
class ServeSettings:
    dsn: str
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    secret: str | None = None
    old_secrets: list[str] | None = None
    trusted_proxies: list[str] = field(default_factory=list)
    admin_user: str = "admin"
    admin_password: str | None = None
    metrics: bool = True
    metrics_allow: list = field(default_factory=lambda: _networks(DEFAULT_METRICS_ALLOW))
    pool_size: int = 8  # the recipients' pool (tracked links, unsubscribes, /healthz)
    admin_pool_size: int = 4  # the admin pages and /metrics
    public_statement_timeout: float = 10.0  # seconds
    admin_statement_timeout: float = 30.0  # PGDRIP_ADMIN_STATEMENT_TIMEOUT
    stored_public_url: str | None = None  # what the database holds (a runner published it), read at start

    @classmethod
    def from_env(cls, dsn: str, host: str | None, port: int | None) -> "ServeSettings":
        s = cls(
            dsn=dsn,
            host=host or os.environ.get("PGDRIP_SERVE_HOST") or "127.0.0.1",
            port=port or _env_int("PGDRIP_SERVE_PORT", 8080),
            public_url=(os.environ.get("PGDRIP_PUBLIC_URL") or "").rstrip("/") or None,
            secret=os.environ.get("PGDRIP_SECRET") or None,
            old_secrets=old_secrets_from_env(),
            trusted_proxies=[p.strip() for p in (os.environ.get("PGDRIP_TRUSTED_PROXIES") or "").split(",")
                             if p.strip()],
            admin_user=os.environ.get("PGDRIP_ADMIN_USER") or "admin",
            admin_password=os.environ.get("PGDRIP_ADMIN_PASSWORD") or None,
            metrics=(os.environ.get("PGDRIP_METRICS") or "on").lower() not in ("off", "0", "false", "no"),
            metrics_allow=_networks(os.environ.get("PGDRIP_METRICS_ALLOW") or DEFAULT_METRICS_ALLOW,
                                    "PGDRIP_METRICS_ALLOW"),
            admin_statement_timeout=_seconds("PGDRIP_ADMIN_STATEMENT_TIMEOUT", 30.0),
        )
        s.validate()
        return s

    def validate(self) -> None:
        if not 1 <= self.port <= 65535:
            raise PgdripError("the port must be between 1 and 65535")
        if self.public_url and not (self.public_url.lower().startswith("https://")
                                    or _LOCAL_HTTP.match(self.public_url)):
            raise PgdripError("PGDRIP_PUBLIC_URL must be https (http only for localhost, 127.0.0.1 or [::1])")
        if bool(self.public_url) != bool(self.secret):
            raise PgdripError("PGDRIP_PUBLIC_URL and PGDRIP_SECRET go together: set both, or neither")
        if self.secret and len(self.secret) < 16:
            raise PgdripError("PGDRIP_SECRET must be 16 characters or more")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise PgdripError(f"PGDRIP_TRUSTED_PROXIES: {proxy!r} is not an IP address or network") from None

    @property
    def hsts(self) -> bool:
        """Strict-Transport-Security when recipients reach this server over https."""
        url = self.public_url or self.stored_public_url or ""
        return url.lower().startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        return bool(self.public_url and self.public_url.lower().startswith("https://"))


def _seconds(name: str, default: float) -> float:
    raw = (os.environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 86400:
        raise PgdripError(f"{name} must be a number of seconds between 0.1 and 86400, not {raw!r}")
    return value


def _networks(text: str, name: str = "networks") -> list:
    networks = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise PgdripError(f"{name}: {item!r} is not an IP address or network") from None
    return networks
