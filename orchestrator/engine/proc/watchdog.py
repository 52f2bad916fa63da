"""A watchdog process that ends the stages' processes if workflow dies without doing so.

workflow can be killed outright (SIGKILL, the OOM killer) while stages run; nothing in
workflow then ends their trees, and a stage's own timeout is no longer enforced. So each
run starts one small process, `python -m orchestrator.engine.proc.watchdog`, in its own
session (a signal to workflow's process group does not reach it) with the read end of a
pipe as its stdin. workflow writes one line per event; the watchdog only reads. When the
pipe reaches end-of-file without an `end` line, workflow is gone: the watchdog sends
SIGTERM to every process whose environment carries one of the run's tree tokens
(`WORKFLOW_TREE`, see `orchestrator.engine.proc.treetoken`) and to the process groups they
lead, then SIGKILL to each one still alive after its stage's `kill_grace` (from the
`stage` line; 5 s if unknown).

Lines (ASCII, each under PIPE_BUF so writes from several threads never interleave):
`run PREFIX` (first; tokens of this run start with `PREFIX.`), `stage TOKEN GRACE`
(written before the stage's process is started), `ondeath HEX` (a command, JSON in hex,
to run once the stages are ended: removing a temporary worktree), `end` (the run is over:
exit without ending anything).

workflow starts the process just before its first stage's (`watchdog_link`): from then on
no stage process exists that it would not find, and it costs the first stage one process
start (a millisecond or two: the interpreter starts in the child, beside the stage). A
stage forked at the very moment workflow dies may not have exec'd yet (it still shows
workflow's environment): the scan goes on for `SETTLE_S` after the last process found.

Why not `PR_SET_PDEATHSIG` in each stage instead: it reaches the direct child only (it is
not inherited by grandchildren, nor by daemons that left the tree), it fires on the exit of
the *thread* that forked rather than of workflow, and setting it needs a `preexec_fn`,
which makes every stage start slower (no vfork) and is unsafe in a threaded process.
Linux only, as it reads /proc; elsewhere it starts and does nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterable

from orchestrator.engine.proc.treetoken import tokens_of

DEFAULT_GRACE_S = 5.0
POLL_S = 0.05
SETTLE_S = 0.3  # keep looking this long after the last stage process was seen
ONDEATH_TIMEOUT_S = 60.0


class Told:
    """What workflow said before it went: its tree prefix, each stage's grace, and the
    commands to run once the stages are ended. (A plain class: dataclasses would cost the
    watchdog's start-up more than the rest of it.)"""

    def __init__(self) -> None:
        self.prefix = ""
        self.graces: dict[str, float] = {}
        self.ondeath: list[list[str]] = []


def watch(lines: Iterable[bytes]) -> Told | None:
    """Read workflow's lines until EOF: what it told, or None after `end`."""
    told = Told()
    for raw in lines:
        words = raw.decode("ascii", "replace").split()
        if words[:1] == ["end"]:
            return None
        if len(words) == 2 and words[0] == "run":
            told.prefix = words[1]
        elif len(words) == 3 and words[0] == "stage":
            with contextlib.suppress(ValueError):
                told.graces[words[1]] = float(words[2])
        elif len(words) == 2 and words[0] == "ondeath":
            argv = _command(words[1])
            if argv is not None:
                told.ondeath.append(argv)
    return told


def _command(text: str) -> list[str] | None:
    """An `ondeath` command: a JSON list of strings, hex-encoded (None if it is not one)."""
    import json  # noqa: PLC0415 - only a run with something to undo says `ondeath`

    try:
        argv = json.loads(bytes.fromhex(text).decode("utf-8"))
    except ValueError:
        return None
    if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
        return argv
    return None


def stage_processes(prefix: str) -> dict[int, str]:
    """Every process (but this one) carrying a token of the run: pid -> token."""
    found: dict[int, str] = {}
    mine = f"{prefix}."
    if not os.path.exists("/proc/self/environ"):  # noqa: PTH110 - no pathlib to import
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
    last_seen = 0.0
    while time.monotonic() - started < longest + 5.0:
        found = stage_processes(prefix)
        now = time.monotonic() - started
        if not found:
            if now - last_seen >= SETTLE_S:
                return
            time.sleep(POLL_S)
            continue
        last_seen = now
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


def run_ondeath(commands: list[list[str]]) -> None:
    """Run what workflow left to do (remove a temporary worktree), one after another."""
    if not commands:
        return
    import subprocess  # noqa: PLC0415 - only when workflow died with something left to do

    for argv in commands:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=ONDEATH_TIMEOUT_S,
                check=False,
            )


def main() -> int:
    """Wait for workflow to end; if it ended without saying so, end its stages, then run
    what it left to do."""
    for name in ("SIGINT", "SIGHUP", "SIGPIPE"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    told = watch(sys.stdin.buffer)
    if told is None:
        return 0
    if told.prefix:
        end_stages(told.prefix, told.graces)
    run_ondeath(told.ondeath)
    return 0


if __name__ == "__main__":
    sys.exit(main())
