"""Whether the kernel's OOM killer ended a stage: its counters, read before and after.

Where the kernel says so: cgroup v2 counts the kills in a cgroup and below it
(`memory.events`, `oom_kill N`), cgroup v1's memory controller in `memory.oom_control`
(`oom_kill N`, Linux 4.13+); both are read for workflow's own cgroup, which its stages
share. Without either (no memory controller mounted), `/proc/vmstat` counts the kills of
the whole machine: a kill there only counts against a stage whose own process was ended by
SIGKILL that workflow did not send. Nothing is known elsewhere (not Linux).

A stage that did not pass while the counter rose was (or lost a process) to the OOM killer:
the runner has too little memory for the job, which another runner may have.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import NamedTuple

CGROUP_ROOT = Path("/sys/fs/cgroup")
VMSTAT = Path("/proc/vmstat")


class OomCounter(NamedTuple):
    """Where OOM kills are counted: the file, and whether it counts workflow's cgroup only
    (`scoped`) or the whole machine."""

    path: Path
    scoped: bool

    @property
    def source(self) -> str:
        """Which counter it is, for the one-line reason."""
        if not self.scoped:
            return "/proc/vmstat oom_kill"
        return f"{self.path.name} oom_kill"


def counter_for(cgroup_lines: list[str], root: Path = CGROUP_ROOT) -> OomCounter | None:
    """The counter of the cgroup that `/proc/self/cgroup` names (its lines), or None.

    cgroup v2 ("0::/path"): `<root>/<path>/memory.events` (or under `<root>/unified` on a
    hybrid mount); cgroup v1 ("N:memory:/path"): `<root>/memory/<path>/memory.oom_control`.
    """
    for line in cgroup_lines:
        number, _, rest = line.strip().partition(":")
        controllers, _, path = rest.partition(":")
        relative = path.lstrip("/")
        if number == "0" and controllers == "":
            for base in (root, root / "unified"):
                candidate = base / relative / "memory.events"
                if candidate.is_file():
                    return OomCounter(candidate, scoped=True)
        elif "memory" in controllers.split(","):
            candidate = root / "memory" / relative / "memory.oom_control"
            if candidate.is_file():
                return OomCounter(candidate, scoped=True)
    return None


def read_kills(path: Path) -> int | None:
    """The `oom_kill N` count in a memory.events, memory.oom_control or vmstat file."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            return int(value.strip())
    return None


@functools.cache
def this_counter() -> OomCounter | None:
    """The counter for this process's cgroup, else the machine's (read once per process)."""
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        lines = []
    found = counter_for(lines)
    if found is not None and read_kills(found.path) is not None:
        return found
    if read_kills(VMSTAT) is not None:
        return OomCounter(VMSTAT, scoped=False)
    return None


def kills_now() -> int | None:
    """OOM kills counted so far (None where nothing counts them)."""
    counter = this_counter()
    return None if counter is None else read_kills(counter.path)


def oom_cause(before: int | None, *, killed_by_sigkill: bool) -> str | None:
    """Why a stage that did not pass was the OOM killer's doing, or None.

    `before` is `kills_now()` at the stage's start; `killed_by_sigkill` whether its own
    process ended by a SIGKILL that workflow did not send (required for a machine-wide
    counter).
    """
    counter = this_counter()
    if before is None or counter is None:
        return None
    after = read_kills(counter.path)
    if after is None or after <= before:
        return None
    if not counter.scoped and not killed_by_sigkill:
        return None
    return f"the OOM killer ended a process ({counter.source} rose by {after - before})"
