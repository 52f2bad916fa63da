"""Run one attempt of a stage: the only place that starts stage processes.

A command starts in its own session (so its whole group can be signalled), with stdin
closed and stdout+stderr merged into a pipe that `LogCopier` drains into the log. The
root is reaped with `wait4`, whose resource usage is the kernel's account of the root and
every descendant it reaped: pytest-xdist workers included, no sampling gaps.

Every process of an attempt carries its tree token (`WORKFLOW_TREE`, see
`orchestrator.engine.proc.adoption`), so what escapes the tree is still found. The attempt is
over once its root has exited and what it left behind has been ended (TERM, then KILL
after the stage's `kill_grace`); the log copy then gets a short drain, never an
open-ended wait for end-of-file that a daemon holding the pipe would never send.
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

from orchestrator.engine.proc.breaker import Breaker, refusal
from orchestrator.engine.proc.callables import call_in_thread
from orchestrator.engine.proc.logcopy import LogCopier, Writable
from orchestrator.engine.proc.monitor import TreeMonitor, Watch
from orchestrator.engine.proc.oom import kills_now, oom_cause
from orchestrator.engine.proc.proctree import ProcessTree
from orchestrator.engine.proc.treetoken import with_tree
from orchestrator.engine.proc.unstarted import Refused, not_started
from orchestrator.engine.spec import Attempt, StageSpec
from orchestrator.model.errors import signal_name
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.units import fixed_seconds
from orchestrator.model.writes import WriteWarnings, append_or_discard

TIMEOUT_EXIT_CODE = 124
LOG_DRAIN_S = 0.5  # after the tree is ended, how long the log copy may wait for EOF


def callable_command(target: str) -> tuple[str, ...]:
    """The command that runs a `pkg.module:function` stage in its own process."""
    return (sys.executable, "-m", "orchestrator.engine.proc.callstage", target)


def run_command(  # noqa: PLR0913 - the niceness is the pool's, per launch; the rest the stage's
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
    adopter = context.monitor.adopter
    token = adopter.launching()
    context.monitor.launching(token, spec.kill_grace)
    oom_before = kills_now()
    started = time.monotonic()
    try:
        with append_or_discard(log_path, context.warnings) as log:
            try:
                process = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=with_tree(dict(env), token),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            except (OSError, ValueError) as exc:
                adopter.forget(token)
                context.spawned()
                return _cannot_start(log, context, Refused(spec, argv, env, exc))
            copier, tree, watch = _start_watching(process, spec, log, context, (token, nice))
            _pid, status, usage = os.wait4(process.pid, 0)
            duration = time.monotonic() - started
            process.returncode = os.waitstatus_to_exitcode(status)
            tree.end_leftovers(0.0 if watch.kill_at is not None else spec.kill_grace)
            context.monitor.unwatch(watch)
            copier.finish(LOG_DRAIN_S)
            if copier.error is not None and context.warnings is not None:
                context.warnings.add("log", log_path, copier.error)
    except (OSError, RuntimeError) as exc:
        # The log, a pipe or the log's copying thread refused (no file descriptor, no
        # thread): the stage could not be started, and that is the runner's doing.
        cause = refusal(exc)
        if cause is None:
            raise
        adopter.forget(token)
        context.spawned()
        context.breaker.cannot_start(spec.name, cause)
        error = context.masker.mask(f"cannot start {argv[0]}: {cause}")
        return Attempt(StageStatus.ERROR, 126, 0.0, error=error, runner_fault=cause)
    cpu = usage.ru_utime + usage.ru_stime + tree.escaped_cpu()
    # Not ru_maxrss: it counts the forked copy of this process before exec.
    measured = Attempt(StageStatus.PASSED, process.returncode, duration, cpu, tree.peak_rss)
    outcome = _outcome(measured, watch, spec)
    if outcome.status is StageStatus.FAILED:
        unsent = process.returncode == -signal.SIGKILL and watch.kill_at is None
        oom = oom_cause(oom_before, killed_by_sigkill=unsent)
        if oom is not None:
            context.breaker.trip(f"{oom} in stage {spec.name}")
            return replace(outcome, error=f"{outcome.error}; {oom}", runner_fault=oom)
    return outcome


def _start_watching(
    process: subprocess.Popen[bytes],
    spec: StageSpec,
    log: Writable,
    context: ExecutionContext,
    launch: tuple[str, int],
) -> tuple[LogCopier, ProcessTree, Watch]:
    """Copy the new root's output into the log and hand its tree (`launch`: tree token
    and niceness) to the monitor, which ends it at its timeout or on cancel.

    Whatever is raised before the monitor has the tree (a caller's `spawned` callback, a
    thread that cannot start) first kills and reaps the process group, then goes on.
    """
    token, nice = launch
    adopter = context.monitor.adopter
    copier: LogCopier | None = None
    try:
        context.spawned()
        adopter.rooted(token, process.pid)
        if nice:
            lower_priority(process.pid, nice)
        # stdout=PIPE was passed, so the stream exists; typeshed types it as optional.
        copier = LogCopier(process.stdout, log, context.masker)  # type: ignore[arg-type]  # see above
        copier.start()
        tree = ProcessTree(
            process.pid,
            nice=nice,
            token=token,
            adopted=lambda fresh: adopter.adopted(token, fresh=fresh),
        )
        return copier, tree, context.monitor.watch(tree, spec.timeout, spec.kill_grace)
    except BaseException:
        _abandon(process, token, context, copier)
        raise


def _abandon(
    process: subprocess.Popen[bytes],
    token: str,
    context: ExecutionContext,
    copier: LogCopier | None,
) -> None:
    """Kill a just-started root's whole group, reap it, and close its output pipe."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(process.pid, 0)
    process.returncode = -signal.SIGKILL  # reaped here: Popen must not wait for it again
    context.monitor.adopter.forget(token)
    if copier is not None and copier.is_alive():
        copier.finish(LOG_DRAIN_S)  # it closes the pipe when it stops reading
    elif process.stdout is not None:
        process.stdout.close()


def lower_priority(pid: int, nice: int) -> None:
    """Raise a process's niceness to `nice` (never lower it: that needs privileges).

    Called as soon as the process exists: a command has barely started by then, and what it
    forks afterwards inherits the niceness (the tree's sampler catches any child it forked
    sooner).
    """
    with contextlib.suppress(OSError):  # already gone, or not ours to change
        if os.getpriority(os.PRIO_PROCESS, pid) < nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)


def _cannot_start(log: object, context: ExecutionContext, refused: Refused) -> Attempt:
    own = [refused.spec.cwd or Path.cwd(), *filter(None, [context.import_root])]
    attempt = not_started(refused, own, context.masker, context.breaker)
    if hasattr(log, "write"):
        log.write(f"workflow: {attempt.error}\n".encode())
    return attempt


def _outcome(measured: Attempt, watch: Watch, spec: StageSpec) -> Attempt:
    """The attempt's status and error from what was measured (its `exit_code` is the
    root's return code: negative for a signal) and what the monitor did to the tree."""
    code = measured.exit_code if measured.exit_code is not None else 0
    if watch.timed_out:
        error = f"timed out after {spec.timeout:g}s; the process tree was ended"
        return replace(
            measured, status=StageStatus.TIMEOUT, exit_code=TIMEOUT_EXIT_CODE, error=error
        )
    if watch.cancelled:
        return replace(measured, status=StageStatus.CANCELLED, error="cancelled")
    if code == 0:
        return replace(measured, status=StageStatus.PASSED, exit_code=0)
    if code < 0:
        error = f"killed by {signal_name(-code)}"
        return replace(measured, status=StageStatus.FAILED, exit_code=128 - code, error=error)
    error = f"exited with code {code}"
    return replace(measured, status=StageStatus.FAILED, error=error)


class ExecutionContext:
    """What every attempt shares: the monitor, the masker, where callables are imported from.

    `spawned` is called once a stage's process has started (or failed to): the pool uses it
    to know when its first stages are all launched. A log that cannot be written is noted
    in `warnings` and the stage runs all the same. The `breaker` hears the runner's own
    failures (a stage that cannot start because the system refuses, the OOM killer).
    """

    def __init__(  # noqa: PLR0913 - what every attempt shares; the breaker keyword-only
        self,
        monitor: TreeMonitor,
        masker: Masker,
        import_root: Path | None,
        spawned: Callable[[], None] | None = None,
        warnings: WriteWarnings | None = None,
        *,
        breaker: Breaker | None = None,
    ) -> None:
        self.monitor = monitor
        self.masker = masker
        self.import_root = import_root
        self.spawned: Callable[[], None] = spawned or _nothing
        self.warnings = warnings if warnings is not None else WriteWarnings()
        self.breaker = breaker if breaker is not None else Breaker()


def _nothing() -> None:
    return None


def run_attempt(  # noqa: PLR0913 - the launch's own choices (in_process, nice) stay keywords
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
    attempt = call_in_thread(target, log_path, context)
    if spec.timeout is not None and attempt.duration_s > spec.timeout:
        # A thread cannot be stopped; past its limit the stage is still judged a timeout.
        error = (
            f"ran {fixed_seconds(attempt.duration_s)}, past its {spec.timeout:g}s timeout "
            "(a function in a thread cannot be ended)"
        )
        return replace(
            attempt, status=StageStatus.TIMEOUT, exit_code=TIMEOUT_EXIT_CODE, error=error
        )
    return attempt


def _run_callable_process(  # noqa: PLR0913 - run_command's values, and the callable's name
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
