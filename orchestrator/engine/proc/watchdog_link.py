"""workflow's side of the watchdog (`orchestrator.engine.proc.watchdog`): the pipe, the process.

Kept apart from the watchdog's own module so that the process imports no more than it
needs (no subprocess, no threads): it starts, and waits, at the cost of a bare interpreter.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

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
        """A stage attempt is about to start with this token and kill grace (seconds)."""
        self._tell(f"stage {token} {grace:g}")

    def ondeath(self, argv: list[str]) -> None:
        """Should workflow die without a word, run `argv` once the stages are ended."""
        import json  # noqa: PLC0415 - only a run with something to undo on death

        self._tell(f"ondeath {json.dumps(argv).encode('utf-8').hex()}")

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
                [sys.executable, "-S", "-m", "orchestrator.engine.proc.watchdog"],
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
            reaper = threading.Thread(
                target=self.process.wait, name="workflow-watchdog-reaper", daemon=True
            )
            # No thread to be had (the process limit): the watchdog ends on its own and is
            # reaped when workflow exits.
            with contextlib.suppress(RuntimeError):
                reaper.start()

    def _tell(self, line: str) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(self._write, line.encode("ascii") + b"\n")


def _search_path() -> list[str]:
    outer = os.environ.get("PYTHONPATH", "")
    return [_PACKAGE_PARENT, *(part for part in outer.split(os.pathsep) if part)]
