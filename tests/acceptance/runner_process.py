"""A `pgdrip run` daemon in a subprocess, with its log collected for assertions."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class RunnerProcess:
    def __init__(self, dsn: str, home: Path, *args: str, env: dict | None = None) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
        full_env.update({"PGDRIP_DSN": dsn, "PGDRIP_HOME": str(home)}, **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pgdrip", "run", *args], env=full_env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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

    def wait_for_log(self, fragment: str, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if fragment in self.log:
                return True
            if self.proc.poll() is not None:
                return fragment in self.log
            time.sleep(0.05)
        return False

    def terminate(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._reader.join(2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._reader.join(2)


@contextmanager
def running(dsn: str, home: Path, *args: str, env: dict | None = None) -> Iterator[RunnerProcess]:
    """A started daemon (its "runner ... started" line seen); on leaving, SIGTERM must exit 0."""
    runner = RunnerProcess(dsn, home, *args, env=env)
    try:
        assert runner.wait_for_log("runner ", 30), runner.log
        yield runner
    finally:
        code = runner.terminate()
    assert code == 0, runner.log
