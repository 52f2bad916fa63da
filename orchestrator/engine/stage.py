"""One stage's life in the pool: its attempts and backoff, its environment, log and record.

The pool decides when a stage starts and on which worker slot; `StageRunner.run` does
the rest in the worker's thread and returns the stage's record.
"""

from __future__ import annotations

import math
import os
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.engine.proc.process import ExecutionContext, run_attempt
from orchestrator.engine.pytest.junit import JunitTarget, junit_target, mask_file
from orchestrator.engine.pytest.plugins import PLUGIN_DIR
from orchestrator.engine.pytest.selectrun import selected, selecting, selection_env
from orchestrator.engine.pytest.testrun import Rerun, TestsOutcome, collect_tests
from orchestrator.engine.spec import Attempt, StageSpec, needs_own_process
from orchestrator.engine.stageshapes import Measured, record_of
from orchestrator.model.config import Strategy
from orchestrator.model.filenames import RunDir, file_stem, stage_log_name
from orchestrator.model.files import temporary_directory
from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.status import StageStatus
from orchestrator.model.strategies import rules_for
from orchestrator.model.units import fixed_seconds
from orchestrator.model.writes import WriteWarnings, append_or_discard

if TYPE_CHECKING:
    from orchestrator.model.records import StageRecord

BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
JUNIT_MTIME_SLACK_S = 1.0  # file times are coarser than the clock: a fresh file may look older


@dataclass(frozen=True)
class StageEvent:
    """Progress news: a stage started, is retried, or ended (with its record)."""

    kind: str  # "start", "retry" or "end"
    name: str
    record: StageRecord | None = None
    detail: str = ""


class Placement(NamedTuple):
    """Where a stage runs: its worker slot, niceness, executor, and its start offset
    (seconds from the pool's start)."""

    slot: int
    nice: int
    executor: str
    offset_s: float


class PartSetup(NamedTuple):
    """One part of a split stage: the stem of its files, and what its environment adds."""

    stem: str
    env: Mapping[str, str]


class _TestsAt(NamedTuple):
    """Where a command's tests are read and rerun: its log, niceness and executor, the
    time its JUnit file may not be older than (epoch seconds), its scratch JUnit path."""

    log_path: Path
    nice: int
    executor: str
    since: float
    scratch: Path


class Ran(NamedTuple):
    """What one command's attempts came to: every attempt (with reruns), how many tries,
    its wall seconds, its tests, when it started (monotonic seconds), and the time its
    files may not be older than (epoch seconds)."""

    attempts: list[Attempt]
    tries: int
    duration_s: float
    tests: TestsOutcome
    started: float
    since: float


class RunnerSetup(NamedTuple):
    """What every stage of one pool shares: strategy, sizes, environment, logs, process
    context, the cancel flag and the event sink."""

    strategy: Strategy
    cores: float
    workers: int
    base_env: Mapping[str, str]
    log_dir: Path | None  # None: logs go to a temporary directory, named by absolute path
    context: ExecutionContext
    warnings: WriteWarnings  # a log that cannot be written is noted here, never raised
    cancel: threading.Event
    emit: Callable[[StageEvent], None]


class StageRunner:
    """Runs stages to their records for one pool (thread-safe: one call per stage)."""

    def __init__(self, setup: RunnerSetup, specs: Mapping[str, StageSpec]) -> None:
        self.setup = setup
        self.specs = specs  # every submitted stage: the CPU share counts the CPU-bound ones
        self._temp_logs: Path | None = None
        self._temp_lock = threading.Lock()

    def run(self, spec: StageSpec, slot: int, nice: int, started_at: float) -> StageRecord:
        """Run `spec` (with its retries) on worker `slot` at niceness `nice`.

        `started_at` is the pool's start (monotonic seconds): the record's start offset
        is measured from it. A stage with a split plan is the pool's to hand to
        `engine/split.py`, which calls back into this runner for each part.
        """
        executor = self.executor_name(spec)
        offset = time.monotonic() - started_at
        log_path = self.log_path(spec.name)
        stem = file_stem(spec.name)
        part = None
        if spec.select is not None:
            spec = selecting(spec, self.scratch_dir(), stem)
            part = PartSetup(stem, selection_env(spec, self.scratch_dir(), stem))
        ran = self.execute(spec, log_path, Placement(slot, nice, executor, offset), part)
        attempts = ran.attempts
        last = ran.tests.attempt
        where_ = (self.scratch_dir(), stem)
        tests = selected(spec, where_, [stem], ran.tests.summary, self.log_reference)
        measured = Measured(
            status=last.status,
            exit_code=last.exit_code,
            attempts=ran.tries,
            start_offset_s=round(offset, 4),
            duration_s=round(ran.duration_s, 4),
            cpu_seconds=round(sum(a.cpu_seconds for a in attempts), 4),
            cpu_percent=_percent(sum(a.cpu_seconds for a in attempts), attempts),
            peak_rss_bytes=max(a.peak_rss_bytes for a in attempts),
            worker=f"{executor}-{slot}",
            executor=executor,
            log=self.log_reference(log_path),
            error=last.error,
            nice=nice,
            tests=tests,
            runner_fault=last.runner_fault,
        )
        return record_of(spec, measured)

    def placement(self, spec: StageSpec, slot: int, nice: int, started_at: float) -> Placement:
        """Where and when `spec` starts now: its executor, slot, niceness and offset (s)."""
        return Placement(slot, nice, self.executor_name(spec), time.monotonic() - started_at)

    def execute(
        self,
        spec: StageSpec,
        log_path: Path,
        where: Placement,
        part: PartSetup | None = None,
    ) -> Ran:
        """The attempts of one command (a stage, or one part of a split stage) and its tests.

        `part` gives a split stage's part its own JUnit file name and the environment that
        selects its tests (the reruns of its failed tests run without it: they name their
        tests themselves).
        """
        setup = self.setup
        stem = part.stem if part is not None else file_stem(spec.name)
        target = self._junit_target(spec, stem)
        if target is not None:
            spec = replace(spec, command=target.argv)
        since = time.time() - JUNIT_MTIME_SLACK_S
        env = self.env_for(spec)
        if part is not None:
            env.update(part.env)
        attempts: list[Attempt] = []
        started = last_started = time.monotonic()
        while True:
            if attempts:
                with append_or_discard(log_path, setup.warnings, text=True) as log:
                    log.write(f"\n--- workflow: attempt {len(attempts) + 1} ---\n")
            last_started = time.monotonic()
            attempt = run_attempt(
                spec,
                log_path,
                env,
                setup.context,
                in_process=where.executor == "process",
                nice=where.nice,
            )
            attempts.append(attempt)
            if not self._should_retry(spec, attempt, len(attempts)):
                break
            delay = backoff(len(attempts))
            setup.emit(StageEvent("retry", spec.name, detail=f"retrying in {fixed_seconds(delay)}"))
            if setup.cancel.wait(delay):
                break
        tries = len(attempts)
        # Up to the moment the last attempt's process was reaped, not including the
        # bookkeeping after it (log flush, leftover checks); reruns of failed tests add theirs.
        own_s = last_started - started + attempts[-1].duration_s
        scratch = self._tests_dir() / f"{stem}.xml"
        at = _TestsAt(log_path, where.nice, where.executor, since, scratch)
        tests = self._tests(spec, target, attempts[-1], at)
        return Ran(
            attempts=[*attempts, *tests.reruns],
            tries=tries,
            duration_s=own_s + sum(a.duration_s for a in tests.reruns),
            tests=tests,
            started=started,
            since=since,
        )

    def _junit_target(self, spec: StageSpec, stem: str) -> JunitTarget | None:
        if spec.command is None:
            return None
        default = self._tests_dir() / f"{stem}.xml"
        target = junit_target(spec.command, spec.junit, spec.cwd or Path.cwd(), default)
        return target if target.path is not None else None

    def scratch_dir(self) -> Path:
        """The run's tests/ directory: JUnit files, rerun id lists, split part files."""
        return self._tests_dir()

    def _tests_dir(self) -> Path:
        log_dir = self.setup.log_dir
        return RunDir(log_dir.parent if log_dir is not None else self._temp_dir()).tests

    def _tests(
        self,
        spec: StageSpec,
        target: JunitTarget | None,
        last: Attempt,
        at: _TestsAt,
    ) -> TestsOutcome:
        """The stage's tests from its JUnit file, after reruns of the failed ones."""
        if target is None:
            return TestsOutcome(None, last, ())
        log_path, nice, executor, since, scratch = at

        def again(argv: tuple[str, ...]) -> Attempt:
            # The command may carry a secret (its argv is the stage's own): mask it as the
            # stage's output is masked.
            shown = self.setup.context.masker.mask(shlex.join(argv))
            with append_or_discard(log_path, self.setup.warnings, text=True) as log:
                log.write(f"\n--- workflow: rerun of the failed tests: {shown} ---\n")
            env = self.env_for(spec)
            in_process = executor == "process"
            rerun_spec = replace(spec, command=argv)
            return run_attempt(
                rerun_spec, log_path, env, self.setup.context, in_process=in_process, nice=nice
            )

        rerun = Rerun(spec.rerun_failed, scratch, spec.cwd or Path.cwd(), again)
        outcome = collect_tests(target, last, rerun, since=since)
        # The tool wrote these files into the run directory itself: mask them as the logs are.
        for written in scratch.parent.glob(f"{scratch.stem}.*"):
            mask_file(written, self.setup.context.masker, self.setup.warnings)
        summary = outcome.summary
        if summary is not None and summary.junit is not None:
            summary = replace(summary, junit=self.log_reference(Path(summary.junit)))
        return outcome._replace(summary=summary)

    def executor_name(self, spec: StageSpec) -> str:
        """Where the stage's work runs: "inline", "thread" or "process".

        A callable named "pkg.module:function" runs in its own process whenever it has an
        `env`, a `cwd` or a `timeout` (every configured stage has one), or the strategy is
        `process` or `adaptive`: only a process can give it its own environment and working
        directory, end it at its timeout, and keep its `sys.exit` and subprocess output
        away from workflow. So history never moves a configured callable into a thread.
        A function object cannot be sent to another process by name: it runs in the
        stage's thread (`thread`/`inline`), and `check_in_thread` refuses what a thread
        cannot honour.
        """
        rules = rules_for(self.setup.strategy)
        if spec.command is None:
            if not isinstance(spec.call, str):
                return "inline" if rules.one_worker else "thread"
            if needs_own_process(spec) or rules.named_calls_in_process:
                return "process"
        if rules.commands == "by kind":
            return "process" if spec.kind == "cpu" else "thread"
        return rules.commands

    def env_for(self, spec: StageSpec) -> dict[str, str]:
        """The stage's environment: its share of the cores in WORKFLOW_CPUS and the usual
        thread-count variables (unless set), then the stage's own `env`; a pytest stage
        also finds workflow's plugins first on its PYTHONPATH."""
        setup = self.setup
        cpu_stages = sum(1 for s in self.specs.values() if s.kind == "cpu") or 1
        share = str(max(1, math.floor(setup.cores / max(1, min(setup.workers, cpu_stages)))))
        env = {**setup.base_env, "WORKFLOW_STAGE": spec.name, "WORKFLOW_CPUS": share}
        for name in ("PYTEST_XDIST_AUTO_NUM_WORKERS", "OMP_NUM_THREADS"):
            env.setdefault(name, share)
        env.update(spec.env)
        if spec.command is not None and is_pytest(spec.command):
            # workflow's pytest plugins (its JUnit writer, a split stage's parts), first.
            known = env.get("PYTHONPATH")
            env["PYTHONPATH"] = os.pathsep.join(
                (str(PLUGIN_DIR), known) if known else (str(PLUGIN_DIR),)
            )
        return env

    def _should_retry(self, spec: StageSpec, attempt: Attempt, count: int) -> bool:
        retryable = attempt.status in (StageStatus.FAILED, StageStatus.TIMEOUT)
        return retryable and count <= spec.retries and not self.setup.cancel.is_set()

    def log_path(self, name: str, stem: str | None = None) -> Path:
        """A fresh, empty log for stage `name` (or the file stem `stem`)."""
        directory = self.setup.log_dir or self._temp_dir()
        path = directory / stage_log_name(name, stem)
        with self.setup.warnings.guard("log", path):
            if not directory.exists():  # else the file's own error says more than mkdir's
                directory.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
        return path

    def _temp_dir(self) -> Path:
        # Only a library caller without a log directory gets here.
        with self._temp_lock:
            if self._temp_logs is None:
                self._temp_logs = temporary_directory("workflow-logs-")
            return self._temp_logs

    def log_reference(self, path: Path) -> str:
        """A file the run wrote, as the record names it: relative to the run directory
        when it is inside it, else absolute (a library caller's temporary logs)."""
        log_dir = self.setup.log_dir
        if log_dir is not None and log_dir.parent in path.parents:
            return str(path.relative_to(log_dir.parent))
        return str(path)


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1-based): exponential, capped, jittered."""
    base: float = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
    # Jitter from the OS's random source: `secrets` would cost more to import than a run of
    # `true` takes, and this is no secret, only a spread so retries do not collide.
    return base * (0.5 + int.from_bytes(os.urandom(2), "big") / 65536)


def _percent(cpu: float, attempts: list[Attempt]) -> float:
    wall = sum(a.duration_s for a in attempts)
    return round(100.0 * cpu / wall, 1) if wall > 0 else 0.0
