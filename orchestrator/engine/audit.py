"""A stage run that records the files it opens (`workflow cache audit`).

Python processes record their own opens through workflow's `sitecustomize` (first on
the stage's PYTHONPATH, reaching every Python subprocess that keeps the variable, and
running the `sitecustomize` it stands in front of). Every other program is seen only
through `strace -f` (Linux), when it is installed and the system lets a process trace
its children; otherwise the audit says that it could not see them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

from orchestrator.engine.auditsite import AUDIT_DIR, LOG_VARIABLE
from orchestrator.engine.spec import StageSpec

# open(2) and its relatives, and the programs started; `-y` prints the file behind each
# descriptor (the working directory for relative paths, the file for a returned one).
TRACED = "trace=open,openat,openat2,creat,execve,execveat"
PROBE_TIMEOUT_S = 10.0
TRACED_TIMEOUT_FACTOR = 3.0  # tracing every open of every process slows a stage down


def strace_usable() -> str | None:
    """Why strace cannot trace a stage here (a sentence), or None when it can."""
    found = shutil.which("strace")
    if found is None:
        return "strace is not installed"
    try:
        probe = subprocess.run(
            [found, "-f", "-qq", "-o", os.devnull, "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"strace could not start ({exc})"
    if probe.returncode != 0:
        said = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"strace cannot trace here ({said[-1] if said else f'exit {probe.returncode}'})"
    return None


def audited(spec: StageSpec, python_log: Path, trace: Path | None, pythonpath: str) -> StageSpec:
    """The stage as the audit runs it: workflow's `sitecustomize` first on its PYTHONPATH
    (`pythonpath` is the one it would have had), its Python processes writing to
    `python_log`, and its command under `strace -f` writing to `trace` when given.

    The stage's own settings (cwd, env) are kept, its timeout stretched by
    TRACED_TIMEOUT_FACTOR (the audit is about what it reads, not how long it takes); it
    is never retried, and a pytest stage's parts run whole (one process to trace).
    """
    env = dict(spec.env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(AUDIT_DIR), pythonpath) if p)
    env[LOG_VARIABLE] = str(python_log)
    command = spec.command
    if command is not None and trace is not None:
        tracer = ("strace", "-f", "-qq", "-y", "-e", TRACED, "-e", "signal=none")
        command = (*tracer, "-o", str(trace), "--", *command)
    timeout = None if spec.timeout is None else spec.timeout * TRACED_TIMEOUT_FACTOR
    return replace(
        spec, env=env, command=command, timeout=timeout, retries=0, split=None, split_parts=()
    )
