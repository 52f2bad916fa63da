"""The real `workflow` command, run as a subprocess by the integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def workflow(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m orchestrator ARGS` in `cwd`; CI=true keeps the output plain lines."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env={**os.environ, "CI": "true", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
