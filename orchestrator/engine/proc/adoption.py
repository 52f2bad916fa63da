"""Processes that leave a stage's tree come back to workflow, and say which stage they left.

A daemon that double-forks (and calls `setsid`) is reparented when its parent exits:
normally to init, where no walk of workflow's tree finds it again, so it could outlive the
run and hold the stage's log pipe open. Linux lets a process make itself a *child
subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`, Linux 3.4+): orphans below it are reparented
to it instead. While a pool runs, workflow is one, so every escaped process turns up among
workflow's own children. Which stage it came from is read from its environment: each
attempt's processes start with `WORKFLOW_TREE` naming it, and children inherit it (a
process that also wipes its environment is found only if the sampler saw it in the tree
before it left). The same variable lets the watchdog find them if workflow dies.

A subreaper must reap what it adopts, or dead orphans stay zombies until workflow exits:
processes adopted from a stage are reaped here (`waitpid(WNOHANG)`); workflow's own
children (stage roots, helpers such as git) carry no token of ours, or are the root of
theirs, and are never waited for here.

Elsewhere (macOS and others) there is no subreaper: escaped processes are found by the
sampler only, as before.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

from orchestrator.engine.proc.proctree import child_pids
from orchestrator.engine.proc.treetoken import tokens_of

_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_RESCAN_S = 0.05  # trees sampled in the same round share one scan of workflow's children

_subreaper_lock = threading.Lock()
_subreaper_users = 0
_subreaper_was = 0


def _prctl(option: int, value: int) -> int:
    """prctl(option, value) through libc; -1 where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return -1
    import ctypes  # noqa: PLC0415 - about a millisecond, paid once per process

    libc = ctypes.CDLL(None, use_errno=True)
    if option == _PR_GET_CHILD_SUBREAPER:
        current = ctypes.c_int(0)
        if libc.prctl(option, ctypes.byref(current), 0, 0, 0) != 0:
            return -1
        return current.value
    return int(libc.prctl(option, value, 0, 0, 0))


def acquire_subreaper() -> bool:
    """Make this process a child subreaper while at least one pool runs; True if it is.

    Process-wide, so counted: the state it had before the first caller is restored when the
    last one calls `release_subreaper`.
    """
    global _subreaper_users, _subreaper_was  # noqa: PLW0603 - one per process, by nature
    with _subreaper_lock:
        if _subreaper_users == 0:
            _subreaper_was = max(0, _prctl(_PR_GET_CHILD_SUBREAPER, 0))
            if _prctl(_PR_SET_CHILD_SUBREAPER, 1) != 0:
                return False
        _subreaper_users += 1
        return True


def release_subreaper() -> None:
    """Undo one `acquire_subreaper` that returned True."""
    global _subreaper_users  # noqa: PLW0603 - see acquire_subreaper
    with _subreaper_lock:
        _subreaper_users -= 1
        if _subreaper_users == 0 and not _subreaper_was:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)


class Adopter:
    """Names each attempt's tree and finds the orphans this (subreaper) process adopted.

    `launching()` before a stage starts, `rooted()` once its pid is known, `adopted()` for
    the orphans that carry its token, `forget()` when the stage is over. Thread-safe.
    """

    def __init__(self) -> None:
        self.prefix = f"{os.getpid()}-{os.urandom(3).hex()}"
        self.active = False  # whether this process is a subreaper: else nothing to adopt
        self._count = 0
        self._lock = threading.Lock()
        self._roots: dict[str, int | None] = {}  # token -> root pid (None: starting)
        # child pid -> (its start time, the token it left, None if not a stage's orphan);
        # the start time tells a reused pid from the process first seen with it.
        self._seen: dict[int, tuple[int, str | None]] = {}
        self._sessions: set[int] = set()  # sessions the stages' processes were seen in
        self._scanned_at = -1.0

    def launching(self) -> str:
        """A new token for an attempt about to start (its root is not known yet)."""
        with self._lock:
            self._count += 1
            token = f"{self.prefix}.{self._count}"
            self._roots[token] = None
            return token

    def rooted(self, token: str, pid: int) -> None:
        """The attempt's root process is `pid`: workflow's child, but never an orphan."""
        with self._lock:
            self._roots[token] = pid
            self._sessions.add(pid)  # it leads its own session

    def forget(self, token: str) -> None:
        """The attempt is over; orphans still carrying its token are no longer tracked."""
        with self._lock:
            self._roots.pop(token, None)

    def adopted(self, token: str, *, fresh: bool = False) -> list[int]:
        """Live orphans that left `token`'s tree and now are this process's children.

        Scans at most every few hundredths of a second unless `fresh`; reaps adopted
        orphans that have exited on the way.
        """
        if not self.active:
            return []
        with self._lock:
            if fresh or time.monotonic() - self._scanned_at > _RESCAN_S:
                self._scan()
            return [pid for pid, (_, owner) in self._seen.items() if owner == token]

    def sweep(self) -> None:
        """Scan now: reap what the stages left behind that has exited since the last scan."""
        if self.active:
            with self._lock:
                self._scan()

    def _scan(self) -> None:
        zombies: dict[int, int] = {}  # pid -> session
        current: dict[int, tuple[int, str | None]] = {}
        for pid in child_pids(os.getpid()):
            state, session, started = _stat(pid)
            known = self._seen.get(pid)
            if state in ("Z", "X"):
                if known is not None and known[0] == started and known[1] is not None:
                    _reaped(pid)  # an adopted orphan that has exited
                else:
                    zombies[pid] = session  # no environment left to read
            elif known is not None and known[0] == started:
                current[pid] = known
            elif state:
                owner = next((t for t in tokens_of(pid) if t in self._roots), None)
                if owner is not None and self._roots[owner] is None:
                    continue  # maybe that root itself, not yet registered: next time
                if owner is not None and self._roots[owner] != pid:
                    current[pid] = (started, owner)
                    self._sessions.add(session)
                else:
                    current[pid] = (started, None)
        self._seen = current
        if zombies:
            self._reap_strays(zombies)
        self._scanned_at = time.monotonic()

    def _reap_strays(self, zombies: dict[int, int]) -> None:
        """Reap orphans that died before they could be told apart by their environment.

        A double fork's middle process usually does: it calls setsid, forks the daemon and
        exits. It is ours if its session is a stage's (a root's) or an adopted process's
        (the daemon it started); other zombies may be a helper's, whose status is not ours
        to take. A zombie root is left to the `wait4` of its stage.
        """
        roots = {pid for pid in self._roots.values() if pid is not None}
        for pid, session in zombies.items():
            if pid not in roots and session in self._sessions:
                _reaped(pid)


def _stat(pid: int) -> tuple[str, int, int]:
    """State letter, session id and start time (clock ticks after boot) of a process.

    ("", 0, 0) once it is gone. From /proc/PID/stat, fields 3, 6 and 22.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:  # noqa: PTH123 - hot path
            fields = file.read().rpartition(b")")[2].split()
    except OSError:
        return "", 0, 0
    return fields[0].decode("ascii"), int(fields[3]), int(fields[19])


def _reaped(pid: int) -> bool:
    """Reap `pid` if it has exited; True once it is gone (reaped here or elsewhere)."""
    with contextlib.suppress(ChildProcessError):
        done, _status = os.waitpid(pid, os.WNOHANG)
        return done != 0
    return True
