"""A watchdog process that ends the stages' processes if workflow dies without doing so.

workflow can be killed outright (SIGKILL, the OOM killer) while stages run; nothing in
workflow then ends their trees, and a stage's own timeout is no longer enforced. So each
run starts one small process, `python -m orchestrator.engine.watchdog`, in its own
session (a signal to workflow's process group does not reach it) with the read end of a
pipe as its stdin. workflow writes one line per event; the watchdog only reads. When the
pipe reaches end-of-file without an `end` line, workflow is gone: the watchdog sends
SIGTERM to every process whose environment carries one of the run's tree tokens
(`WORKFLOW_TREE`, see `orchestrator.engine.adoption`) and to the process groups they
lead, then SIGKILL to each one still alive after its stage's `kill_grace` (from the
`stage` line; 5 s if unknown).

Lines (ASCII, each under PIPE_BUF so writes from several threads never interleave):
`run PREFIX` (first; tokens of this run start with `PREFIX.`), `stage TOKEN GRACE`,
`end` (the run is over: exit without ending anything).

The process starts lazily (from the monitor's first round, not on the first stage's path)
and only when a stage is still running; lines written before it exists wait in the pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.adoption import tokens_of

if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_GRACE_S = 5.0
POLL_S = 0.05
# The directory holding the `orchestrator` package: one level up per package level.
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[(__package__ or "").count(".") + 1])


class Watchdog:
    """workflow's side: the pipe, the process behind it, the lines it is told."""

    def __init__(self, prefix: str) -> None:
        self._read, self._write = os.pipe()
        # Never block a stage's thread on a watchdog that is slow to start: a full pipe
        # drops the line (the prefix alone still lets the watchdog find every process).
        os.set_blocking(self._write, False)
        self.process: subprocess.Popen[bytes] | None = None
        self._tell(f"run {prefix}")

    def stage(self, token: str, grace: float) -> None:
        """A stage attempt started with this token and kill grace (seconds)."""
        self._tell(f"stage {token} {grace:g}")

    def start(self) -> None:
        """Start the watchdog process unless it runs, or could not be started (idempotent).

        Without it (no interpreter to start, no process slot) the run goes on unguarded.
        """
        if self.process is not None or self._read < 0:
            return
        # -S: it needs the standard library and this package only, not site's start-up.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(_search_path())}
        with contextlib.suppress(OSError):
            self.process = subprocess.Popen(
                [sys.executable, "-S", "-m", "orchestrator.engine.watchdog"],
                stdin=self._read,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd="/",  # holds no project directory; imports come from PYTHONPATH alone
            )
        os.close(self._read)
        self._read = -1

    def close(self, *, stages_running: bool = False) -> None:
        """The run is over: dismiss the watchdog, or, if stages still run, let it end them.

        Stages still running when the pool stops (its caller gave up on it) are ended as if
        workflow had died: the pipe closes without an `end`. The watchdog is reaped in the
        background: the end of the run does not wait for one still starting up.
        """
        if stages_running:
            self.start()
        else:
            self._tell("end")
        os.close(self._write)
        if self._read >= 0:
            os.close(self._read)
            self._read = -1
        if self.process is not None and self.process.poll() is None:
            threading.Thread(
                target=self.process.wait, name="workflow-watchdog-reaper", daemon=True
            ).start()

    def _tell(self, line: str) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._write, line.encode("ascii") + b"\n")


def _search_path() -> list[str]:
    outer = os.environ.get("PYTHONPATH", "")
    return [_PACKAGE_PARENT, *(part for part in outer.split(os.pathsep) if part)]


# -- the watchdog process -----------------------------------------------------------------


def watch(lines: Iterable[bytes]) -> tuple[str, dict[str, float]] | None:
    """Read workflow's lines until EOF: (prefix, grace per token), or None after `end`."""
    prefix = ""
    graces: dict[str, float] = {}
    for raw in lines:
        words = raw.decode("ascii", "replace").split()
        if words[:1] == ["end"]:
            return None
        if len(words) == 2 and words[0] == "run":
            prefix = words[1]
        elif len(words) == 3 and words[0] == "stage":
            with contextlib.suppress(ValueError):
                graces[words[1]] = float(words[2])
    return prefix, graces


def stage_processes(prefix: str) -> dict[int, str]:
    """Every process (but this one) carrying a token of the run: pid -> token."""
    found: dict[int, str] = {}
    mine = f"{prefix}."
    if not Path("/proc/self/environ").exists():
        return found  # no /proc (not Linux): the watchdog cannot see environments
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        token = next((t for t in tokens_of(int(entry.name)) if t.startswith(mine)), None)
        if token is not None:
            found[int(entry.name)] = token
    return found


def end_stages(prefix: str, graces: dict[str, float]) -> None:
    """TERM every process of the run and its group; KILL each after its stage's grace."""
    started = time.monotonic()
    longest = max([DEFAULT_GRACE_S, *graces.values()])
    termed: set[int] = set()
    while time.monotonic() - started < longest + 5.0:
        found = stage_processes(prefix)
        if not found:
            return
        now = time.monotonic() - started
        for pid, token in found.items():
            late = now >= graces.get(token, DEFAULT_GRACE_S)
            if late or pid not in termed:
                _signal(pid, signal.SIGKILL if late else signal.SIGTERM, found)
                termed.add(pid)
        time.sleep(POLL_S)


def _signal(pid: int, signum: int, stage_pids: dict[int, str]) -> None:
    """Signal the process, and its group when a stage process leads it.

    The group may hold children that dropped the token from their environment; a group
    led by anything else (the process joined a group it did not create) is not ours.
    """
    with contextlib.suppress(OSError):
        group = os.getpgid(pid)
        if group in stage_pids and group != os.getpgrp():
            os.killpg(group, signum)
    with contextlib.suppress(OSError):
        os.kill(pid, signum)


def main() -> int:
    """Wait for workflow to end; if it ended without saying so, end its stages."""
    for name in ("SIGINT", "SIGHUP", "SIGPIPE"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    told = watch(sys.stdin.buffer)
    if told is not None and told[0]:
        end_stages(*told)
    return 0


if __name__ == "__main__":
    sys.exit(main())
