"""A watchdog process that ends the stages' processes if workflow dies without doing so.

workflow can be killed outright (SIGKILL, the OOM killer) while stages run; nothing in
workflow then ends their trees, and a stage's own timeout is no longer enforced. So each
run starts one small process, `python -m orchestrator.engine.watchdog`, in its own
session (a signal to workflow's process group does not reach it) with the read end of a
pipe as its stdin. workflow writes one line per event; the watchdog only reads. When the
pipe reaches end-of-file without an `end` line, workflow is gone: the watchdog sends
SIGTERM to every process whose environment carries one of the run's tree tokens
(`WORKFLOW_TREE`, see `orchestrator.engine.treetoken`) and to the process groups they
lead, then SIGKILL to each one still alive after its stage's `kill_grace` (from the
`stage` line; 5 s if unknown).

Lines (ASCII, each under PIPE_BUF so writes from several threads never interleave):
`run PREFIX` (first; tokens of this run start with `PREFIX.`), `stage TOKEN GRACE`,
`end` (the run is over: exit without ending anything).

workflow starts the process lazily (`watchdog_link`: from the monitor's first round, not on
the first stage's path) and only when a stage still runs; lines written before then wait in
the pipe.

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

from orchestrator.engine.treetoken import tokens_of

DEFAULT_GRACE_S = 5.0
POLL_S = 0.05


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
