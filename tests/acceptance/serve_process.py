"""A real `pgdrip serve` in a subprocess, on a free port, with its log kept for assertions."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.smtp_server import free_port


class ServeProcess:
    def __init__(self, dsn: str, home: Path, env: dict | None = None) -> None:
        self.port = free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
        full_env.update({"PGDRIP_DSN": dsn, "PGDRIP_HOME": str(home)}, **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-m", "pgdrip", "serve", "--port", str(self.port)],
                                     env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"pgdrip serve exited: {self.log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"pgdrip serve did not answer /healthz: {self.log}")

    def terminate(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._reader.join(2)


@contextmanager
def serving(dsn: str, home: Path, env: dict | None = None) -> Iterator[ServeProcess]:
    """A ready `pgdrip serve`; on leaving, SIGTERM must stop it with exit code 0."""
    server = ServeProcess(dsn, home, env)
    try:
        server.wait_ready()
        yield server
    finally:
        code = server.terminate()
    assert code == 0, server.log
