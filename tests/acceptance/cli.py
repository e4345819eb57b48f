"""Runs the real `pgdrip` entry point in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path


def pgdrip(*args: str, dsn: str | None = None, env: dict | None = None, timeout: float = 60,
           home: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PGDRIP_")}
    if home is not None:
        full_env["PGDRIP_HOME"] = str(home)
    if dsn is not None:
        full_env["PGDRIP_DSN"] = dsn
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "pgdrip", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, input=input)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
