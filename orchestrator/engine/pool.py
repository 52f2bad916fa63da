"""AdaptiveWorkerPool: runs stages as monitored process trees, longest expected first.

One loop in the caller's thread starts whatever the rules admit (free worker, `needs`
passed, `serial` alone, shared resources within their limits, adaptive: CPU-bound stages
up to the usable cores), then waits for the first stage to end. Stages are supervised
from a thread pool and run in their own processes; subtasks a callable fans out go to a
separate executor, so nested use cannot deadlock the pool.
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.engine.proc.breaker import Breaker, ended_by_runner, refusal, unstarted_reason
from orchestrator.engine.proc.monitor import TreeMonitor
from orchestrator.engine.proc.process import ExecutionContext
from orchestrator.engine.scheduling import admission
from orchestrator.engine.scheduling.admission import NICE_OFF_PATH, Capacity, Started
from orchestrator.engine.scheduling.metrics import pool_metrics
from orchestrator.engine.scheduling.sizing import read_machine
from orchestrator.engine.spec import StageSpec, Target, check_in_thread
from orchestrator.engine.stage import RunnerSetup, StageEvent, StageRunner
from orchestrator.engine.stageshapes import unstarted
from orchestrator.engine.subtasks import current_pool, submit_subtask
from orchestrator.engine.toolpath import stage_environment
from orchestrator.model.config import Strategy
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.strategies import rules_for
from orchestrator.model.writes import WriteWarnings

if TYPE_CHECKING:
    from orchestrator.model.records import PoolRecord, StageRecord


class AdaptiveWorkerPool:
    """Runs submitted stages under one of five strategies and measures each."""

    def __init__(  # noqa: PLR0913 - the seed's constructor README teaches; options keyword-only
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
        resources: Mapping[str, int] | None = None,
        end_check: Callable[[StageRecord], StageRecord] | None = None,
    ) -> None:
        self.strategy = Strategy(strategy)
        # Applied to each stage's record in its worker's thread as it ends, before the
        # pool counts its outcome (the run's source guard: a stage that edited the
        # sources fails, and what needs it does not start).
        self.end_check = end_check
        self.cores = usable_cpus if usable_cpus is not None else read_machine().usable_cpus
        default_size = max(1, math.floor(self.cores))
        self.rules = rules_for(self.strategy)
        self.workers = 1 if self.rules.one_worker else initial_size or default_size
        self.fail_fast = fail_fast
        # [resources]: name -> how many stages that use it may run at once
        self.resources = dict(resources or {})
        self.log_dir = log_dir
        self.on_event = on_event
        # Stage commands are looked up in workflow's own environment first (toolpath.py).
        self.base_env = stage_environment(os.environ if base_env is None else base_env)
        self.sizing_reason = sizing_reason or f"{self.strategy.value}: {self.workers} workers"
        self.monitor = TreeMonitor()
        self.warnings = warnings if warnings is not None else WriteWarnings()
        masker = masker or Masker(())
        # A broken runner (engine/proc/breaker.py) stops the launches and ends what runs.
        self.breaker = Breaker(on_trip=lambda _cause: self.cancel())
        self.monitor.on_refused = lambda cause: self.breaker.trip(
            f"workflow itself could not go on: {cause}"
        )
        self.context = ExecutionContext(
            self.monitor,
            masker,
            import_root,
            spawned=self._spawned,
            warnings=self.warnings,
            breaker=self.breaker,
        )
        # Set once the first stages have their processes: later work waits for it.
        self.launched = threading.Event()
        self._unlaunched = 0
        self._specs: dict[str, StageSpec] = {}
        self._records: dict[str, StageRecord] = {}
        self._running: dict[str, tuple[Future[StageRecord] | None, int]] = {}
        self._cancel = threading.Event()
        self._event_lock = threading.Lock()
        self._subtasks: ThreadPoolExecutor | None = None
        self._launched_at: dict[str, float] = {}
        self._released: dict[str, float] = {}  # cores a running split stage gave back
        self._started_at = 0.0
        self._finished_at = 0.0
        setup = RunnerSetup(
            strategy=self.strategy,
            cores=self.cores,
            workers=self.workers,
            base_env=self.base_env,
            log_dir=log_dir,
            context=self.context,
            warnings=self.warnings,
            cancel=self._cancel,
            emit=self._emit,
        )
        self.runner = StageRunner(setup, self._specs)

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
        check_in_thread(spec)
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
        """Pool-level figures (`to_dict()` for JSON), with the resource limits it honoured."""
        return pool_metrics(
            self.results,
            workers=self.workers,
            started_at=self._started_at,
            finished_at=self._finished_at or time.monotonic(),
            sizing_reason=self.sizing_reason,
            usable_cpus=self.cores,
            monitor_cpu_seconds=self.monitor.cpu_seconds,
            resources=self.resources,
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

    def release_core(self, stage: str) -> None:
        """A part of the split stage `stage` ended while its others still run: its core is
        free for another stage (the next admission, within a quarter second, sees it)."""
        with self._event_lock:
            self._released[stage] = self._released.get(stage, 0.0) + 1.0

    def _holding(self, name: str) -> StageSpec:
        """A running stage as admission sees it: a split stage holds one core fewer for
        each part that ended."""
        spec = self._specs[name]
        with self._event_lock:
            released = self._released.get(name, 0.0)
        if not released:
            return spec
        return replace(spec, cpu_demand=max(1.0, spec.demand - released))

    def _run(self) -> None:
        self._started_at = time.monotonic()
        self.monitor.start(self.launched)
        executor = None
        if not self.rules.one_worker:
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
        broken = self.breaker.cause
        for spec in self._pending():
            record = unstarted(spec, StageStatus.CANCELLED, unstarted_reason(broken))
            self._records[spec.name] = replace(record, runner_fault=broken)

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
            self._records[spec.name] = unstarted(spec, StageStatus.ERROR, reason)

    def _pending(self) -> list[StageSpec]:
        return [
            s for n, s in self._specs.items() if n not in self._records and n not in self._running
        ]

    def _skip_blocked(self) -> None:
        if self._cancel.is_set():
            return  # what has not started is cancelled, not skipped
        failed = {name for name, record in self._records.items() if not record.status.ok}
        for spec, reason in admission.blocked(self._pending(), failed):
            record = unstarted(spec, StageStatus.SKIPPED, reason)
            self._records[spec.name] = record
            self._emit(StageEvent("end", spec.name, record))

    def _ready(self) -> list[StageSpec]:
        return admission.ready(self._pending(), set(self._records), set(self._specs))

    def _admissible(self) -> list[StageSpec]:
        running = [self._holding(name) for name in self._running]
        capacity = Capacity(self.workers, self.cores, self.rules.budget_cores, self.resources)
        return admission.admit(self._ready(), running, capacity)

    def _start(self, spec: StageSpec, executor: ThreadPoolExecutor | None) -> None:
        slot = admission.free_slot({slot for _, slot in self._running.values()})
        nice = self._niceness(spec)
        self._launched_at[spec.name] = time.monotonic()
        self._emit(StageEvent("start", spec.name, detail=f"nice {nice}" if nice else ""))
        if executor is None:
            self._running[spec.name] = (None, slot)
            self._finish(self._execute(spec, slot, nice))
            return
        run = contextvars.copy_context().run
        try:
            future = executor.submit(run, self._execute, spec, slot, nice)
        except RuntimeError as exc:  # no thread for its supervisor: the system refused
            cause = refusal(exc)
            if cause is None:
                raise
            self._spawned()
            self.breaker.cannot_start(spec.name, cause)
            error = f"cannot start: {cause}"
            record = unstarted(spec, StageStatus.ERROR, error)
            self._finish(replace(record, runner_fault=cause))
            return
        self._running[spec.name] = (future, slot)

    def _niceness(self, spec: StageSpec) -> int:
        running = [Started(self._specs[n], self._launched_at[n]) for n in self._running]
        return admission.niceness(spec, running, time.monotonic(), adaptive=self.rules.budget_cores)

    def _finish(self, record: StageRecord) -> None:
        self._running.pop(record.name, None)
        record = ended_by_runner(record, self.breaker.cause)
        self._records[record.name] = record
        self._emit(StageEvent("end", record.name, record))
        if self.fail_fast and not record.status.ok and not self._cancel.is_set():
            self.cancel()

    def _execute(self, spec: StageSpec, slot: int, nice: int = 0) -> StageRecord:
        current_pool.set(self)  # submit_subtask finds this pool from the stage's thread
        if spec.split is None:
            record = self.runner.run(spec, slot, nice, self._started_at)
        else:  # whole or in parts is decided here, so the runner never names its splitter
            from orchestrator.engine.split import run_split  # noqa: PLC0415 - split stages only

            where = self.runner.placement(spec, slot, nice, self._started_at)
            record = run_split(self.runner, spec, where)
        return record if self.end_check is None else self.end_check(record)

    def _emit(self, event: StageEvent) -> None:
        if self.on_event is not None:
            with self._event_lock:
                self.on_event(event)


__all__ = ["NICE_OFF_PATH", "AdaptiveWorkerPool", "StageEvent", "StageSpec", "submit_subtask"]
