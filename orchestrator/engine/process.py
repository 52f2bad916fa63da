"""Run one attempt of a stage: the only place that starts stage processes.

A command starts in its own session (so its whole group can be signalled), with stdin
closed and stdout+stderr merged into a pipe that `LogCopier` drains into the log. The
root is reaped with `wait4`, whose resource usage is the kernel's account of the root and
every descendant it reaped: pytest-xdist workers included, no sampling gaps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from orchestrator.engine.callables import call_in_thread
from orchestrator.engine.logcopy import LogCopier
from orchestrator.engine.monitor import TreeMonitor
from orchestrator.engine.proctree import ProcessTree
from orchestrator.engine.spec import Attempt, StageSpec
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.writes import WriteWarnings, append_or_discard

TIMEOUT_EXIT_CODE = 124
LEFTOVER_GRACE_S = 2.0


def callable_command(target: str) -> tuple[str, ...]:
    """The command that runs a `pkg.module:function` stage in its own process."""
    return (sys.executable, "-m", "orchestrator.engine.callstage", target)


def run_command(
    spec: StageSpec,
    argv: tuple[str, ...],
    log_path: Path,
    env: Mapping[str, str],
    context: ExecutionContext,
    *,
    nice: int = 0,
) -> Attempt:
    """Run `argv` as the stage's process tree (at niceness `nice`) and measure it."""
    cwd = spec.cwd or Path.cwd()
    if not cwd.is_dir():
        context.spawned()  # as far as launching goes, this stage is done
        return Attempt(StageStatus.ERROR, None, 0.0, error=f"working directory not found: {cwd}")
    started = time.monotonic()
    with append_or_discard(log_path, context.warnings) as log:
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        except FileNotFoundError:
            context.spawned()
            return _cannot_start(log, context, f"command not found: {argv[0]}", 127)
        except PermissionError:
            context.spawned()
            return _cannot_start(log, context, f"command not executable: {argv[0]}", 126)
        except OSError as exc:
            context.spawned()
            return _cannot_start(log, context, f"cannot start {argv[0]}: {exc.strerror}", 126)
        context.spawned()
        if nice:
            lower_priority(process.pid, nice)
        copier = LogCopier(process.stdout, log, context.masker)  # type: ignore[arg-type]
        copier.start()
        tree = ProcessTree(process.pid, nice=nice)
        watch = context.monitor.watch(tree, spec.timeout, spec.kill_grace)
        _pid, status, usage = os.wait4(process.pid, 0)
        duration = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        tree.end_leftovers(0.0 if watch.kill_at is not None else LEFTOVER_GRACE_S)
        context.monitor.unwatch(watch)
        copier.join(timeout=10)
        if copier.error is not None and context.warnings is not None:
            context.warnings.add("log", log_path, copier.error)
    cpu = usage.ru_utime + usage.ru_stime + tree.escaped_cpu()
    # Not ru_maxrss: it counts the forked copy of this process before exec.
    peak = tree.peak_rss
    return _outcome(
        process.returncode,
        duration,
        cpu=cpu,
        peak=peak,
        timed_out=watch.timed_out,
        cancelled=watch.cancelled,
        spec=spec,
    )


def lower_priority(pid: int, nice: int) -> None:
    """Raise a process's niceness to `nice` (never lower it: that needs privileges).

    Called as soon as the process exists: a command has barely started by then, and what it
    forks afterwards inherits the niceness (the tree's sampler catches any child it forked
    sooner).
    """
    with contextlib.suppress(OSError):  # already gone, or not ours to change
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)


def _cannot_start(log: object, context: ExecutionContext, message: str, code: int) -> Attempt:
    message = context.masker.mask(message)  # argv[0] may hold a secret as well
    if hasattr(log, "write"):
        log.write(f"workflow: {message}\n".encode())
    return Attempt(StageStatus.ERROR, code, 0.0, error=message)


def _outcome(
    returncode: int,
    duration: float,
    *,
    cpu: float,
    peak: int,
    timed_out: bool,
    cancelled: bool,
    spec: StageSpec,
) -> Attempt:
    if timed_out:
        return Attempt(
            StageStatus.TIMEOUT,
            TIMEOUT_EXIT_CODE,
            duration,
            cpu,
            peak,
            f"timed out after {spec.timeout:g}s; the process tree was ended",
        )
    if cancelled:
        return Attempt(StageStatus.CANCELLED, returncode, duration, cpu, peak, "cancelled")
    if returncode == 0:
        return Attempt(StageStatus.PASSED, 0, duration, cpu, peak)
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return Attempt(
            StageStatus.FAILED, 128 - returncode, duration, cpu, peak, f"killed by {name}"
        )
    return Attempt(
        StageStatus.FAILED, returncode, duration, cpu, peak, f"exited with code {returncode}"
    )


class ExecutionContext:
    """What every attempt shares: the monitor, the masker, where callables are imported from.

    `spawned` is called once a stage's process has started (or failed to): the pool uses it
    to know when its first stages are all launched. A log that cannot be written is noted
    in `warnings` (when given) and the stage runs all the same.
    """

    def __init__(
        self,
        monitor: TreeMonitor,
        masker: Masker,
        import_root: Path | None,
        spawned: Callable[[], None] | None = None,
        warnings: WriteWarnings | None = None,
    ) -> None:
        self.monitor = monitor
        self.masker = masker
        self.import_root = import_root
        self.spawned: Callable[[], None] = spawned or _nothing
        self.warnings = warnings


def _nothing() -> None:
    return None


def run_attempt(
    spec: StageSpec,
    log_path: Path,
    env: Mapping[str, str],
    context: ExecutionContext,
    *,
    in_process: bool,
    nice: int = 0,
) -> Attempt:
    """Run the stage once: a command, a callable in its own process, or one in this thread.

    `nice` applies to processes only; a callable in this thread shares workflow's priority.
    """
    if spec.command is not None:
        return run_command(spec, spec.command, log_path, env, context, nice=nice)
    target = spec.call
    if in_process and isinstance(target, str):
        return _run_callable_process(spec, target, log_path, env, context, nice=nice)
    if target is None:
        raise ValueError(f"stage {spec.name!r} has neither a command nor a callable")
    context.spawned()
    return call_in_thread(target, log_path, context)


def _run_callable_process(
    spec: StageSpec,
    target: str,
    log_path: Path,
    env: Mapping[str, str],
    context: ExecutionContext,
    *,
    nice: int,
) -> Attempt:
    error_file = log_path.with_name(log_path.name + ".error")
    error_file.unlink(missing_ok=True)
    callable_env = {**env, "WORKFLOW_ERROR_FILE": str(error_file)}
    if context.import_root is not None:
        callable_env["WORKFLOW_IMPORT_ROOT"] = str(context.import_root)
    attempt = run_command(
        spec, callable_command(target), log_path, callable_env, context, nice=nice
    )
    if not error_file.is_file():
        return attempt
    message = context.masker.mask(error_file.read_text(encoding="utf-8").strip())
    error_file.unlink(missing_ok=True)
    if attempt.status is not StageStatus.FAILED:
        return attempt
    status = StageStatus.ERROR if attempt.exit_code == 2 else StageStatus.FAILED
    return replace(attempt, status=status, error=message)
