"""A stage's process tree: who belongs to it, what it uses, and how to end all of it.

Descendants are found through `/proc/<pid>/task/<tid>/children`, which walks only our own
tree; psutil's `children()` scans every process on the machine each time, which is what
makes naive monitors expensive. Processes that leave the tree (a daemon that double-forks,
a tool that calls setsid) are remembered, so they are measured and ended too: those the
sampler saw before they left, and those adopted by workflow as a child subreaper
(`orchestrator.engine.proc.adoption`), which it names through `adopted`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil

_PROC = Path("/proc")
_HAS_CHILDREN_FILES = (_PROC / "self" / "task").is_dir() and any(
    (task / "children").exists() for task in (_PROC / "self" / "task").iterdir()
)


@functools.cache
def _psutil() -> ModuleType:
    # psutil loads on the first sample, in the monitor's thread, once the stages are running:
    # importing it costs more than starting a stage.
    import psutil  # noqa: PLC0415 - see the comment above

    return psutil


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's), or [] once it is gone."""
    if not _HAS_CHILDREN_FILES:
        try:
            return [child.pid for child in _psutil().Process(pid).children()]
        except _psutil().Error:
            return []
    found: list[int] = []
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(part) for part in (task / "children").read_text("ascii").split())
        except OSError:
            continue
    return found


def descendants(root: int) -> list[int]:
    """`root` and everything below it, breadth first."""
    order = [root]
    index = 0
    while index < len(order):
        order.extend(child_pids(order[index]))
        index += 1
    return order


@dataclass
class _Member:
    process: psutil.Process
    cpu_s: float = 0.0  # own + reaped children's CPU, last seen
    escaped: bool = False  # seen outside the root's tree: the kernel won't charge it to root


@dataclass
class ProcessTree:
    """Live bookkeeping of one stage's processes; safe to sample from another thread."""

    root_pid: int
    nice: int = 0  # members found below this niceness are raised to it
    token: str = ""  # its WORKFLOW_TREE token (orchestrator.engine.proc.adoption); "" if none
    members: dict[int, _Member] = field(default_factory=dict)
    peak_rss: int = 0
    samples: int = 0
    # Orphans of this tree that workflow adopted, by pid (fresh=True: scan now).
    adopted: Callable[[bool], list[int]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sample(self, *, fresh: bool = False) -> None:
        """Refresh membership, the summed RSS (for the peak) and each member's CPU."""
        own = set(descendants(self.root_pid))
        away = {pid for top in self._adopted(fresh) for pid in descendants(top)}
        current = own | away
        with self._lock:
            for pid in current:
                if pid not in self.members:
                    with contextlib.suppress(_psutil().Error):
                        self.members[pid] = _Member(_psutil().Process(pid))
                        if self.nice and self.members[pid].process.nice() < self.nice:
                            self.members[pid].process.nice(self.nice)
            total_rss = 0
            for pid, member in self.members.items():
                if pid in away:
                    member.escaped = True
                elif pid not in own:
                    if not member.escaped and pid != self.root_pid and _alive(member.process):
                        member.escaped = True
                    if not member.escaped:
                        continue
                reading = _read(member.process)
                if reading is None:
                    continue
                rss, cpu = reading
                total_rss += rss
                member.cpu_s = max(member.cpu_s, cpu)
            self.peak_rss = max(self.peak_rss, total_rss)
            self.samples += 1

    def _adopted(self, fresh: bool) -> list[int]:
        return [] if self.adopted is None else self.adopted(fresh)

    def escaped_cpu(self) -> float:
        """CPU of members that left the tree, which `wait4` on the root cannot include."""
        with self._lock:
            return sum(m.cpu_s for m in self.members.values() if m.escaped)

    def live_processes(self) -> list[psutil.Process]:
        """Every known member still running (identity checked, so a reused pid is skipped)."""
        with self._lock:
            known = [m.process for m in self.members.values()]
        return [process for process in known if _alive(process)]

    def signal_all(self, signum: int) -> None:
        """Signal the root's process group and every known member, wherever it went.

        A runner out of file descriptors (psutil cannot load, /proc cannot be read) still
        gets the group signalled: that needs none.
        """
        # Unreadable: what is already known is signalled below, and the group in any case.
        with contextlib.suppress(OSError):
            self.sample(fresh=True)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.root_pid, signum)  # the root leads its own session and group
        with contextlib.suppress(OSError):
            for process in self.live_processes():
                with contextlib.suppress(_psutil().Error):
                    process.send_signal(signum)

    def end_leftovers(self, grace: float) -> int:
        """TERM what is left of the tree, KILL what survives `grace` seconds; count them."""
        self.sample(fresh=True)
        survivors = [p for p in self.live_processes() if p.pid != self.root_pid]
        group_alive = _group_alive(self.root_pid)
        if not survivors and not group_alive:
            return 0
        self.signal_all(signal.SIGTERM)
        _gone, alive = _psutil().wait_procs(survivors, timeout=grace)
        if alive or _group_alive(self.root_pid):
            self.signal_all(signal.SIGKILL)
            _psutil().wait_procs(alive, timeout=2.0)
        return len(survivors)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != _psutil().STATUS_ZOMBIE
    except _psutil().Error:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _read(process: psutil.Process) -> tuple[int, float] | None:
    try:
        with process.oneshot():
            times = process.cpu_times()
            rss = process.memory_info().rss
    except _psutil().Error:
        return None
    cpu = times.user + times.system + times.children_user + times.children_system
    return rss, cpu
