"""Run one attempt of a stage: the only place that starts stage processes.

A command starts in its own session (so its whole group can be signalled), with stdin
closed and stdout+stderr merged into a pipe that `LogCopier` drains into the log. The
root is reaped with `wait4`, whose resource usage is the kernel's account of the root and
every descendant it reaped: pytest-xdist workers included, no sampling gaps.

Every process of an attempt carries its tree token (`WORKFLOW_TREE`, see
`orchestrator.engine.adoption`), so what escapes the tree is still found. The attempt is
over once its root has exited and what it left behind has been ended (TERM, then KILL
after the stage's `kill_grace`); the log copy then gets a short drain, never an
open-ended wait for end-of-file that a daemon holding the pipe would never send.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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
from orchestrator.engine.treetoken import with_tree
from orchestrator.model.masking import Masker
from orchestrator.model.status import StageStatus
from orchestrator.model.writes import WriteWarnings, append_or_discard

TIMEOUT_EXIT_CODE = 124
LOG_DRAIN_S = 0.5  # after the tree is ended, how long the log copy may wait for EOF


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
    adopter = context.monitor.adopter
    token = adopter.launching()
    started = time.monotonic()
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
        except FileNotFoundError:
            adopter.forget(token)
            context.spawned()
            return _cannot_start(log, context, _not_found(argv[0], cwd, env), 127)
        except PermissionError:
            adopter.forget(token)
            context.spawned()
            return _cannot_start(log, context, f"command not executable: {argv[0]}", 126)
        except OSError as exc:
            adopter.forget(token)
            context.spawned()
            return _cannot_start(log, context, f"cannot start {argv[0]}: {exc.strerror}", 126)
        except ValueError as exc:  # a NUL in argv or env, or a bad variable name
            context.spawned()
            return _cannot_start(log, context, f"cannot start {argv[0]!r}: {exc}", 126)
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
        watch = context.monitor.watch(tree, spec.timeout, spec.kill_grace)
        _pid, status, usage = os.wait4(process.pid, 0)
        duration = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        tree.end_leftovers(0.0 if watch.kill_at is not None else spec.kill_grace)
        context.monitor.unwatch(watch)
        copier.finish(LOG_DRAIN_S)
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


def _not_found(command: str, cwd: Path, env: Mapping[str, str]) -> str:
    """Why exec said ENOENT: the command is missing, or it is a script whose `#!`
    interpreter is (the kernel reports both the same way)."""
    found = (cwd / command) if "/" in command else None
    if found is None:
        where = shutil.which(command, path=env.get("PATH", os.defpath))
        found = Path(where) if where else None
    if found is not None and found.is_file():
        with contextlib.suppress(OSError), found.open("rb") as script:
            first = script.readline(256)
            if first.startswith(b"#!"):
                interpreter = first[2:].strip().split(b" ")[0].decode(errors="replace")
                return f"bad interpreter {interpreter} (from the #! line of {command})"
    return f"command not found: {command}"


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
    in `warnings` and the stage runs all the same.
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
        self.warnings = warnings if warnings is not None else WriteWarnings()


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
    attempt = call_in_thread(target, log_path, context)
    if spec.timeout is not None and attempt.duration_s > spec.timeout:
        # A thread cannot be stopped; past its limit the stage is still judged a timeout.
        error = (
            f"ran {attempt.duration_s:.1f}s, past its {spec.timeout:g}s timeout "
            "(a function in a thread cannot be ended)"
        )
        return replace(
            attempt, status=StageStatus.TIMEOUT, exit_code=TIMEOUT_EXIT_CODE, error=error
        )
    return attempt


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
