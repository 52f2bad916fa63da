"""One thread that samples every running stage's tree and enforces its deadlines.

A single sampler for the whole run (rather than one per stage) keeps the monitor's own
CPU small and measurable; it also owns the TERM -> grace -> KILL escalation, so a stage
past its timeout is ended even while its supervising thread is blocked in `wait4`.

While it runs, this process is a child subreaper (orphans of the stages come back to it,
`orchestrator.engine.proc.adoption`) and a watchdog process stands by to end the stages
should workflow be killed outright (`orchestrator.engine.proc.watchdog_link`); it is started
just before the first stage's process (`launching`), so no stage process ever exists
that it would not end.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.engine.proc.adoption import Adopter, acquire_subreaper, release_subreaper
from orchestrator.engine.proc.breaker import refusal
from orchestrator.engine.proc.watchdog_link import Watchdog

if TYPE_CHECKING:
    from orchestrator.engine.proc.proctree import ProcessTree

SAMPLE_INTERVAL_S = 0.1


@dataclass
class Watch:
    """A tree under watch, with its deadline and where its escalation stands."""

    tree: ProcessTree
    deadline: float | None
    grace: float
    timed_out: bool = False
    cancelled: bool = False
    kill_at: float | None = None

    def terminate(self, *, immediate: bool = False) -> None:
        """Start (or finish) ending the tree: TERM now, KILL after the grace period."""
        now = time.monotonic()
        if immediate or self.grace <= 0:
            self.kill_at = now
            self.tree.signal_all(signal.SIGKILL)
            return
        if self.kill_at is None:
            self.kill_at = now + self.grace
            self.tree.signal_all(signal.SIGTERM)


class TreeMonitor:
    """Samples registered trees every `interval` seconds until stopped."""

    def __init__(self, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.interval = interval
        self._watches: dict[int, Watch] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cpu_seconds = 0.0  # the monitor's own CPU, reported in the run record
        self._cancelled = False  # once set, every tree watched from then on is ended too
        self._immediate = False
        self.adopter = Adopter()
        self.watchdog: Watchdog | None = None
        self._subreaper = False
        # Hears why the system refused the sampler (the pool's breaker trips on it).
        self.on_refused: Callable[[str], None] = _ignore

    def start(self, launched: threading.Event | None = None) -> None:
        """Start the sampling thread (idempotent), which makes this process a subreaper.

        It does so once `launched` is set (or after at most a second): loading ctypes for
        the prctl takes milliseconds, tens on a loaded machine, and holds the interpreter
        lock; done before, it delays the first stages. A stage that orphans a process in
        those first milliseconds leaves it to the sampler, as on systems without prctl.
        """
        if self._thread is None:
            self.watchdog = Watchdog(self.adopter.prefix)
            self._thread = threading.Thread(
                target=self._loop, args=(launched,), name="workflow-monitor", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the thread; dismiss the watchdog (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            watchdog, self.watchdog = self.watchdog, None
            running = bool(self._watches)
        if watchdog is not None:
            watchdog.close(stages_running=running)
        if self._subreaper:
            self.adopter.sweep()
            self.adopter.active = self._subreaper = False
            release_subreaper()

    def launching(self, token: str, grace: float) -> None:
        """A stage process with this tree token is about to start: the watchdog learns its
        kill grace, and starts now if it has not (a `kill -9` of workflow a moment later
        must not leave the stage running)."""
        with self._lock:
            watchdog = self.watchdog
            if watchdog is not None:
                watchdog.stage(token, grace)
                watchdog.start()

    def watch(self, tree: ProcessTree, timeout: float | None, grace: float) -> Watch:
        """Start watching a tree; its deadline counts from now."""
        deadline = None if timeout is None else time.monotonic() + timeout
        watch = Watch(tree=tree, deadline=deadline, grace=grace)
        # No sample here: this runs between the stage's start and its reaping, and would
        # count into its duration; the sampler's next round sees the tree soon enough.
        with self._lock:
            self._watches[tree.root_pid] = watch
            cancelled, immediate = self._cancelled, self._immediate
        if cancelled:
            # The run was cancelled while this stage's process was starting (fail-fast or
            # Ctrl-C between its start and this call): end it as cancel_all would have.
            watch.cancelled = True
            watch.terminate(immediate=immediate)
        return watch

    def unwatch(self, watch: Watch) -> None:
        """Stop watching (the root has been reaped and what it left ended)."""
        with self._lock:
            self._watches.pop(watch.tree.root_pid, None)
        if watch.tree.token:
            self.adopter.forget(watch.tree.token)

    def cancel_all(self, *, immediate: bool = False) -> None:
        """End every tree watched now or later: graceful first, at once when `immediate`."""
        with self._lock:
            self._cancelled = True
            self._immediate = self._immediate or immediate
            watches = list(self._watches.values())
        for watch in watches:
            watch.cancelled = True
            watch.terminate(immediate=immediate)

    def _loop(self, launched: threading.Event | None) -> None:
        started = time.thread_time()
        if launched is not None:
            launched.wait(1.0)
        try:
            self._subreaper = acquire_subreaper()
        except OSError as exc:  # ctypes could not be loaded (no file descriptor left)
            self._refused(exc)
        self.adopter.active = self._subreaper
        while not self._stop.wait(self.interval):
            with self._lock:
                watches = list(self._watches.values())
            now = time.monotonic()
            for watch in watches:
                try:
                    watch.tree.sample()
                except OSError as exc:
                    self._refused(exc)
                # Sampled or not, deadlines hold: a timed-out tree is still ended.
                self._enforce(watch, now)
            self.cpu_seconds = time.thread_time() - started

    def _refused(self, exc: OSError) -> None:
        """The system refused the sampler a resource (a file descriptor to read /proc or
        load psutil): the runner is broken, and `on_refused` hears why. Anything else is
        workflow's own bug, and is raised."""
        cause = refusal(exc)
        if cause is None:
            raise exc
        self.on_refused(cause)

    @staticmethod
    def _enforce(watch: Watch, now: float) -> None:
        if watch.deadline is not None and now >= watch.deadline and not watch.timed_out:
            watch.timed_out = True
            watch.terminate()
        if watch.kill_at is not None and now >= watch.kill_at:
            watch.tree.signal_all(signal.SIGKILL)


def _ignore(_cause: str) -> None:
    return None
