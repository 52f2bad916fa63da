"""AdaptiveWorkerPool: runs stages as monitored process trees, longest expected first.

The scheduler is one loop in the caller's thread: it starts whatever the rules admit
(free worker, `needs` passed, `serial` alone, and under the adaptive strategy CPU-bound
stages only up to the usable cores), then waits for the first stage to finish. Stages are
supervised from a thread pool; their work runs in their own processes. Subtasks that a
callable stage fans out go to a separate executor, so nested use cannot deadlock the pool
(the lesson of the dual-thread-pool seed).
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine.metrics import pool_metrics
from orchestrator.engine.monitor import TreeMonitor
from orchestrator.engine.process import ExecutionContext, run_attempt
from orchestrator.engine.sizing import read_machine
from orchestrator.engine.spec import Attempt, StageSpec, Target
from orchestrator.model.config import Strategy
from orchestrator.model.filenames import file_stem
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.writes import WriteWarnings, append_or_discard

if TYPE_CHECKING:
    from orchestrator.model.records import PoolRecord, StageRecord

BACKOFF_BASE_S = 0.5
CPU_BOUND_DEMAND = 0.5  # cores; below this a stage mostly waits
# A CPU-bound stage expected to end well before the longest running one starts at this
# niceness: when more CPU-bound processes are runnable than there are cores (a stage that
# forks workers, the machine's own load), the kernel serves the longest stage first, so
# the stage that sets the run's wall time is not stretched by ones that have time to spare.
NICE_OFF_PATH = 10
OFF_PATH_SLACK = 0.1  # "well before": by at least this share of the time left to that end
BACKOFF_MAX_S = 30.0
_current_pool: contextvars.ContextVar[AdaptiveWorkerPool | None] = contextvars.ContextVar(
    "workflow_current_pool", default=None
)
_fallback_lock = threading.Lock()
_fallback: list[ThreadPoolExecutor] = []


@dataclass(frozen=True)
class StageEvent:
    """Progress news: a stage started, is retried, or ended (with its record)."""

    kind: str  # "start", "retry" or "end"
    name: str
    record: StageRecord | None = None
    detail: str = ""


def submit_subtask(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """Run a subtask of the current stage on the pool's separate subtask executor."""
    pool = _current_pool.get()
    if pool is not None:
        return pool.subtask_executor().submit(function, *args)
    with _fallback_lock:
        if not _fallback:
            _fallback.append(ThreadPoolExecutor(thread_name_prefix="workflow-subtask"))
        executor = _fallback[0]
    return executor.submit(function, *args)


class AdaptiveWorkerPool:
    """Runs submitted stages under one of five strategies and measures each."""

    def __init__(
        self,
        strategy: Strategy | str = Strategy.ADAPTIVE,
        initial_size: int | None = None,
        *,
        usable_cpus: float | None = None,
        fail_fast: bool = False,
        log_dir: Path | None = None,
        on_event: Callable[[StageEvent], None] | None = None,
        masker: Masker | None = None,
        base_env: Mapping[str, str] | None = None,
        import_root: Path | None = None,
        sizing_reason: str = "",
        warnings: WriteWarnings | None = None,
    ) -> None:
        self.strategy = Strategy(strategy)
        self.cores = usable_cpus if usable_cpus is not None else read_machine().usable_cpus
        default_size = max(1, math.floor(self.cores))
        self.workers = 1 if self.strategy is Strategy.SEQUENTIAL else initial_size or default_size
        self.fail_fast = fail_fast
        self.log_dir = log_dir
        self.on_event = on_event
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.sizing_reason = sizing_reason or f"{self.strategy.value}: {self.workers} workers"
        self.monitor = TreeMonitor()
        self.warnings = warnings if warnings is not None else WriteWarnings()
        self.context = ExecutionContext(
            self.monitor,
            masker or Masker(()),
            import_root,
            spawned=self._spawned,
            warnings=self.warnings,
        )
        # Set once the first stages admitted have their processes (or ended early): work
        # that can wait, such as writing the first record, waits for it rather than
        # competing with those starts.
        self.launched = threading.Event()
        self._unlaunched = 0
        self._specs: dict[str, StageSpec] = {}
        self._records: dict[str, StageRecord] = {}
        self._running: dict[str, tuple[Future[StageRecord] | None, int]] = {}
        self._cancel = threading.Event()
        self._event_lock = threading.Lock()
        self._subtasks: ThreadPoolExecutor | None = None
        self._launched_at: dict[str, float] = {}
        self._started_at = 0.0
        self._finished_at = 0.0
        self._temp_logs: Path | None = None

    # -- the seed's API -------------------------------------------------------------
    def submit_stage(
        self, number: int, name: str, task: Target | tuple[str, ...] | list[str], **options: Any
    ) -> None:
        """Add a stage: `task` is a command (argv list), "pkg.mod:func", or a callable."""
        if isinstance(task, (list, tuple)):
            spec = StageSpec(name=name, number=number, command=tuple(task), **options)
        else:
            spec = StageSpec(name=name, number=number, call=task, **options)
        self.submit(spec)

    def submit(self, spec: StageSpec) -> None:
        """Add a stage described by a full spec."""
        if spec.name in self._specs:
            raise ValueError(f"a stage named {spec.name!r} was already submitted")
        self._specs[spec.name] = spec

    def wait_all(self) -> tuple[bool, list[str]]:
        """Run every submitted stage; (all passed, one line per stage that did not)."""
        self._run()
        errors = [
            f"stage {r.number} {r.name}: {r.status.value}" + (f": {r.error}" if r.error else "")
            for r in self.results
            if not r.status.ok
        ]
        return not errors, errors

    @property
    def results(self) -> list[StageRecord]:
        """Stage records in declared (number) order."""
        return sorted(self._records.values(), key=lambda r: (r.number, r.name))

    @property
    def metrics(self) -> PoolRecord:
        """Pool-level figures (`to_dict()` for JSON)."""
        return pool_metrics(
            self.results,
            workers=self.workers,
            started_at=self._started_at,
            finished_at=self._finished_at or time.monotonic(),
            sizing_reason=self.sizing_reason,
            usable_cpus=self.cores,
            monitor_cpu_seconds=self.monitor.cpu_seconds,
        )

    def cancel(self, *, immediate: bool = False) -> None:
        """Stop scheduling and end every running tree (at once when `immediate`)."""
        self._cancel.set()
        self.monitor.cancel_all(immediate=immediate)

    @property
    def cancelled(self) -> bool:
        """Whether `cancel` was called (by a signal or fail-fast)."""
        return self._cancel.is_set()

    def shutdown(self) -> None:
        """Release the subtask executor and the monitor thread."""
        self.monitor.stop()
        if self._subtasks is not None:
            self._subtasks.shutdown(wait=True)
            self._subtasks = None

    def subtask_executor(self) -> ThreadPoolExecutor:
        """The executor for work that stages fan out (never the stages' own)."""
        with self._event_lock:
            if self._subtasks is None:
                self._subtasks = ThreadPoolExecutor(
                    max_workers=max(4, 2 * math.ceil(self.cores)),
                    thread_name_prefix="workflow-subtask",
                )
            return self._subtasks

    # -- scheduling -----------------------------------------------------------------
    def _run(self) -> None:
        self._started_at = time.monotonic()
        self.monitor.start()
        executor = None
        if self.strategy is not Strategy.SEQUENTIAL:
            executor = ThreadPoolExecutor(self.workers, thread_name_prefix="workflow-stage")
        try:
            self._schedule(executor)
        except BaseException:
            # The pool's own bookkeeping failed: no stage may outlive it, and waiting for
            # the workers below must not wait for stages that would run on regardless.
            self.cancel(immediate=True)
            raise
        finally:
            self.launched.set()
            if executor is not None:
                executor.shutdown(wait=True)
            self._finished_at = time.monotonic()
            self.monitor.stop()

    def _spawned(self) -> None:
        with self._event_lock:
            self._unlaunched -= 1
            if self._unlaunched <= 0:
                self.launched.set()

    def _schedule(self, executor: ThreadPoolExecutor | None) -> None:
        first = True
        while True:
            self._skip_blocked()
            if not self._cancel.is_set():
                self._launch(self._admissible(), executor, first=first)
                first = False
            futures = [f for f, _ in self._running.values() if f is not None]
            if not futures:
                if self._cancel.is_set() or not self._pending():
                    break
                if not self._ready():
                    self._unsatisfiable()
                    break
                continue
            done, _ = wait(futures, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                self._finish(future.result())
        for spec in self._pending():
            self._records[spec.name] = self._unstarted(spec, StageStatus.CANCELLED, "cancelled")

    def _launch(
        self, admitted: list[StageSpec], executor: ThreadPoolExecutor | None, *, first: bool
    ) -> None:
        if first:
            with self._event_lock:
                self._unlaunched = len(admitted)
            if not admitted:
                self.launched.set()
        for spec in admitted:
            self._start(spec, executor)

    def _unsatisfiable(self) -> None:
        # Only a library caller can get here (the configuration rejects cycles).
        for spec in self._pending():
            reason = "its needs can never be met (a cycle of needs)"
            self._records[spec.name] = self._unstarted(spec, StageStatus.ERROR, reason)

    def _pending(self) -> list[StageSpec]:
        return [
            s for n, s in self._specs.items() if n not in self._records and n not in self._running
        ]

    def _skip_blocked(self) -> None:
        if self._cancel.is_set():
            return  # what has not started is cancelled, not skipped
        for spec in self._pending():
            failed = [
                need
                for need in spec.needs
                if need in self._records and not self._records[need].status.ok
            ]
            if failed:
                reason = f"needs {', '.join(failed)}, which did not pass"
                record = self._unstarted(spec, StageStatus.SKIPPED, reason)
                self._records[spec.name] = record
                self._emit(StageEvent("end", spec.name, record))

    def _ready(self) -> list[StageSpec]:
        known = self._specs.keys()
        ready = [
            spec
            for spec in self._pending()
            if all(need in self._records for need in spec.needs if need in known)
        ]
        return sorted(ready, key=_priority)

    def _admissible(self) -> list[StageSpec]:
        chosen: list[StageSpec] = []
        running = [self._specs[name] for name in self._running]
        for spec in self._ready():
            active = running + chosen
            if len(active) >= self.workers or any(s.serial for s in active):
                break
            if spec.serial:
                if active:
                    break  # it waits for the pool to drain; nothing new starts before it
                chosen.append(spec)
                break
            if self.strategy is Strategy.ADAPTIVE and not self._fits_cpu(spec, active):
                continue  # an I/O-bound stage further down may still fit
            chosen.append(spec)
        return chosen

    def _fits_cpu(self, spec: StageSpec, active: list[StageSpec]) -> bool:
        # Only CPU-bound stages spend the core budget; I/O-bound ones overlap freely.
        if spec.demand < CPU_BOUND_DEMAND:
            return True
        used = sum(s.demand for s in active if s.demand >= CPU_BOUND_DEMAND)
        # A stage that can use several cores still starts when one whole core is free.
        return used == 0 or used + min(spec.demand, 1.0) <= self.cores + 1e-6

    def _start(self, spec: StageSpec, executor: ThreadPoolExecutor | None) -> None:
        slots = {slot for _, slot in self._running.values()}
        slot = next(i for i in range(1, len(slots) + 2) if i not in slots)
        nice = self._niceness(spec)
        self._launched_at[spec.name] = time.monotonic()
        self._emit(StageEvent("start", spec.name, detail=f"nice {nice}" if nice else ""))
        if executor is None:
            self._running[spec.name] = (None, slot)
            self._finish(self._execute(spec, slot, nice))
            return
        run = contextvars.copy_context().run
        future = executor.submit(run, self._execute, spec, slot, nice)
        self._running[spec.name] = (future, slot)

    def _niceness(self, spec: StageSpec) -> int:
        """NICE_OFF_PATH for a CPU-bound stage expected to end well before the longest
        CPU-bound stage already running; 0 otherwise (and whenever durations are unknown)."""
        if (
            self.strategy is not Strategy.ADAPTIVE
            or spec.demand < CPU_BOUND_DEMAND
            or spec.expected_s is None
        ):
            return 0
        ends = [
            self._launched_at[name] + other.expected_s
            for name in self._running
            if (other := self._specs[name]).expected_s is not None
            and other.demand >= CPU_BOUND_DEMAND
        ]
        if not ends:
            return 0
        now = time.monotonic()
        horizon = max(ends)
        mine = now + spec.expected_s
        return NICE_OFF_PATH if mine <= horizon - OFF_PATH_SLACK * (horizon - now) else 0

    def _finish(self, record: StageRecord) -> None:
        self._running.pop(record.name, None)
        self._records[record.name] = record
        self._emit(StageEvent("end", record.name, record))
        if self.fail_fast and not record.status.ok and not self._cancel.is_set():
            self.cancel()

    # -- one stage ------------------------------------------------------------------
    def _execute(self, spec: StageSpec, slot: int, nice: int = 0) -> StageRecord:
        _current_pool.set(self)
        executor = self._executor_name(spec)
        log_path = self._log_path(spec.name)
        offset = time.monotonic() - self._started_at
        attempts: list[Attempt] = []
        started = last_started = time.monotonic()
        while True:
            if len(attempts) > 0:
                with append_or_discard(log_path, self.warnings, text=True) as log:
                    log.write(f"\n--- workflow: attempt {len(attempts) + 1} ---\n")
            last_started = time.monotonic()
            attempt = run_attempt(
                spec,
                log_path,
                self._env_for(spec),
                self.context,
                in_process=executor == "process",
                nice=nice,
            )
            attempts.append(attempt)
            if not self._should_retry(spec, attempt, len(attempts)):
                break
            delay = _backoff(len(attempts))
            self._emit(StageEvent("retry", spec.name, detail=f"retrying in {delay:.1f}s"))
            if self._cancel.wait(delay):
                break
        last = attempts[-1]
        from orchestrator.model.records import StageRecord  # noqa: PLC0415 - loads while stages run

        return StageRecord(
            number=spec.number,
            name=spec.name,
            status=last.status,
            exit_code=last.exit_code,
            attempts=len(attempts),
            start_offset_s=round(offset, 4),
            # Up to the moment the last attempt's process was reaped, not including the
            # bookkeeping after it (log flush, leftover checks).
            duration_s=round(last_started - started + last.duration_s, 4),
            cpu_seconds=round(sum(a.cpu_seconds for a in attempts), 4),
            cpu_percent=_percent(sum(a.cpu_seconds for a in attempts), attempts),
            peak_rss_bytes=max(a.peak_rss_bytes for a in attempts),
            worker=f"{executor}-{slot}",
            executor=executor,
            kind=spec.kind,
            command=spec.display,
            log=self._log_reference(log_path),
            error=last.error,
            needs=spec.needs,
            nice=nice,
        )

    def _should_retry(self, spec: StageSpec, attempt: Attempt, count: int) -> bool:
        retryable = attempt.status in (StageStatus.FAILED, StageStatus.TIMEOUT)
        return retryable and count <= spec.retries and not self._cancel.is_set()

    def _executor_name(self, spec: StageSpec) -> str:
        if self.strategy is Strategy.SEQUENTIAL:
            return "inline"
        if self.strategy is Strategy.THREAD:
            return "thread"
        wants_process = self.strategy is Strategy.PROCESS or spec.kind == "cpu"
        if spec.command is None and not isinstance(spec.call, str):
            return "thread"  # a function object cannot be sent to another process by name
        return "process" if wants_process else "thread"

    def _env_for(self, spec: StageSpec) -> dict[str, str]:
        cpu_stages = sum(1 for s in self._specs.values() if s.kind == "cpu") or 1
        share = str(max(1, math.floor(self.cores / max(1, min(self.workers, cpu_stages)))))
        env = {**self.base_env, "WORKFLOW_STAGE": spec.name, "WORKFLOW_CPUS": share}
        for name in ("PYTEST_XDIST_AUTO_NUM_WORKERS", "OMP_NUM_THREADS"):
            env.setdefault(name, share)
        env.update(spec.env)
        return env

    def _log_path(self, name: str) -> Path:
        if self.log_dir is None:
            if self._temp_logs is None:
                import tempfile  # noqa: PLC0415 - only a library caller without a log_dir

                self._temp_logs = Path(tempfile.mkdtemp(prefix="workflow-logs-"))
            directory = self._temp_logs
        else:
            directory = self.log_dir
        path = directory / f"{file_stem(name)}.log"
        with self.warnings.guard("log", path):
            if not directory.exists():  # else the file's own error says more than mkdir's
                directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        return path

    def _log_reference(self, path: Path) -> str:
        if self.log_dir is not None and self.log_dir.parent in path.parents:
            return str(path.relative_to(self.log_dir.parent))
        return str(path)

    def _unstarted(self, spec: StageSpec, status: StageStatus, reason: str) -> StageRecord:
        from orchestrator.model.records import StageRecord  # noqa: PLC0415 - loads while stages run

        return StageRecord(
            number=spec.number,
            name=spec.name,
            status=status,
            kind=spec.kind,
            command=spec.display,
            error=reason,
            needs=spec.needs,
        )

    def _emit(self, event: StageEvent) -> None:
        if self.on_event is not None:
            with self._event_lock:
                self.on_event(event)


def _priority(spec: StageSpec) -> tuple[float, float, int]:
    """Longest expected first (LPT), then CPU-bound before I/O-bound, then stage number."""
    expected = spec.expected_s if spec.expected_s is not None else 0.0
    return (-expected, 0.0 if spec.kind == "cpu" else 1.0, spec.number)


def _backoff(attempt: int) -> float:
    base: float = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
    # Jitter from the OS's random source: `secrets` would cost more to import than a run of
    # `true` takes, and this is no secret, only a spread so retries do not collide.
    return base * (0.5 + int.from_bytes(os.urandom(2), "big") / 65536)


def _percent(cpu: float, attempts: list[Attempt]) -> float:
    wall = sum(a.duration_s for a in attempts)
    return round(100.0 * cpu / wall, 1) if wall > 0 else 0.0


__all__ = ["AdaptiveWorkerPool", "StageEvent", "StageSpec", "submit_subtask"]
