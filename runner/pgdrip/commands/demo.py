"""`pgdrip demo`: a welcome sequence, three contacts, one run; then the return path at work:
a tracked link followed and a one-click unsubscribe, through a `pgdrip serve` started for it."""

import re
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

from .. import queries
from ..cli_common import dsn_option
from ..connect import connect, publish_mail_settings, require_schema, resolve_dsn

DEMO_PORT = 8080
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) pgdrip-demo"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _demo_secret(home: Path) -> str:
    """A secret for the demo's links, made once and kept in PGDRIP_HOME (only this user reads it)."""
    path = home / "demo-secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # show the redirect, do not follow it off this machine
        return None


def _request(url: str, data: bytes | None = None) -> tuple[int, str]:
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers={"User-Agent": BROWSER})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


@click.command()
@dsn_option
@click.option("--smtp", "smtp_url", envvar="PGDRIP_SMTP_URL", metavar="URL", help="Send through SMTP instead.")
def demo(dsn: str | None, smtp_url: str | None) -> None:
    """See pgdrip work in under a minute: a welcome sequence, three contacts, one run, then a
    tracked link followed and a one-click unsubscribe through `pgdrip serve`.

    \b
    Example:
      pgdrip demo          # uses the embedded PostgreSQL, writes .eml files
    """
    import uvicorn

    from ..daemon import Runner
    from ..senders import make_sender_factory
    from ..settings import RunSettings
    from ..web.app import create_app
    from ..web.config import ServeSettings

    settings = RunSettings.from_env(smtp_url=smtp_url)
    factory, target = make_sender_factory(settings.smtp_url, settings.mail_dir)
    dsn = resolve_dsn(dsn)
    with connect(dsn) as conn:
        require_schema(conn)
        stored = conn.execute(queries.MAIL_SETTINGS).fetchone()["public_url"]
        if not settings.public_url:
            if stored is None or re.match(r"^http://127\.0\.0\.1:\d+$", stored):
                # the demo serves its own return path on this machine (never in place of a real one)
                port = DEMO_PORT if _port_free(DEMO_PORT) else _free_port()
                settings.public_url, settings.secret = f"http://127.0.0.1:{port}", _demo_secret(settings.home)
        publish_mail_settings(conn, settings)
        public_url = settings.public_url or stored
        with conn.transaction():
            for statement in queries.DEMO_SETUP:
                conn.execute(statement)
    stats = Runner(dsn, settings, factory).run_once()
    click.echo(f"demo: 3 contacts tagged 'welcome'; {stats.sent} message(s) sent to {target}")
    click.echo("the next two emails of the sequence are due in 24 hours and 7 days: see `pgdrip enrollments`")

    with connect(dsn) as conn:
        mail = {r["email"]: r["html_body"] for r in conn.execute(queries.DEMO_MAIL)}
    base = (public_url or "").rstrip("/")
    local = re.match(r"^http://127\.0\.0\.1:(\d+)$", base)
    links = re.findall(rf'href="({re.escape(base)}/c/[^"]+)"', mail.get("ada@example.com", ""))
    unsubscribe = re.search(rf'href="({re.escape(base)}/u/[^"]+)"', mail.get("grace@example.com", ""))
    if not local or len(links) < 2 or not unsubscribe:
        click.echo(f"tracked links and one-click unsubscribe point at {base}: run `pgdrip serve` there")
        return
    server = uvicorn.Server(uvicorn.Config(create_app(ServeSettings(dsn=dsn, port=int(local.group(1)))),
                                           host="127.0.0.1", port=int(local.group(1)), log_config=None,
                                           access_log=False, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        status, location = _request(links[1])  # links[0] is the honeypot no person sees
        click.echo(f"demo: Ada followed her tracked link: {status} -> {location} (recorded as a person's click)")
        status, _ = _request(unsubscribe.group(1), b"List-Unsubscribe=One-Click")
        click.echo(f"demo: Grace used the one-click unsubscribe link (RFC 8058 POST): {status}, unsubscribed")
    finally:
        server.should_exit = True
        thread.join(10)
    click.echo("see them with `pgdrip report`; the admin pages: PGDRIP_ADMIN_PASSWORD=... pgdrip serve, "
               f"then open {base}/admin/")


def register(main: click.Group) -> None:
    main.add_command(demo)
