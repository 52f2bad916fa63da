"""The pre-push check: the hook vouches for what is pushed (DESIGN "What the pre-push hook
checks").

The lane is decided once, from every pushed ref together. Each distinct pushed commit is
then checked on its own tree: in place when it is the checked-out `HEAD` and nothing else
under the stages' inputs differs (`lanes/pushtree.py`), else in a temporary worktree of
it, which is removed afterwards whatever happens: the run's end, an error, Ctrl-C,
SIGTERM or SIGHUP (they raise here, `signals_raise`), or workflow killed outright (the
watchdog removes it, `engine/proc/watchdog.py`'s `ondeath`); one a killed workflow left behind
is swept at the next check. The configuration and stages are the pushed commit's; the
reports, history and result cache are the project's own, so a commit whose stages passed
before is not run again. The output says which tree each commit was checked in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lanes.prepush import parse_push_lines
from lanes.pushtree import InputScope, Placement, differing_inputs, distinct_commits, place
from lanes.worktree import (
    WorkTree,
    add_worktree,
    new_worktree_path,
    read_work_tree,
    remove_worktree,
    sweep_stale,
)
from orchestrator.configfile.load import LoadedConfig, load_config
from orchestrator.engine.proc.watchdog_link import Watchdog
from orchestrator.model.errors import ExitCode, WorkflowError, worst_exit_code
from orchestrator.model.globs import compile_globs
from orchestrator.model.ownpaths import own_output_of
from orchestrator.model.status import CheckedCommit
from orchestrator.pipeline.decide import decide
from orchestrator.pipeline.events import Notice, RunEvent, RunResult
from orchestrator.pipeline.prepare import RunOptions, project_files
from orchestrator.pipeline.signals import signals_deferred, signals_raise

# After these, the other commits are not checked: the user stopped it, or the runner broke.
_STOP = frozenset({ExitCode.RUNNER_BROKEN, ExitCode.SIGINT, ExitCode.SIGTERM, ExitCode.SIGHUP})


class CheckoutError(WorkflowError):
    """A pushed commit could not be checked out to be checked: the push is refused."""


def check_push(
    options: RunOptions,
    run: Callable[[RunOptions], RunResult],
    on_event: Callable[[RunEvent], None],
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Check every commit `options.push_lines` pushes; one result per commit checked.

    `run` runs one commit's stages (`run_workflow`). The result's exit code is the worst
    of the commits' (`model/errors.worst_exit_code`); `commits` holds each one's result.
    Raises ConfigError or UsageError (exit 2) before anything runs, CheckoutError when a
    pushed commit cannot be checked out.
    """
    loaded = load_config(options.config_path, cwd=options.cwd, files=project_files)
    decision = None
    if options.lane is None:  # else forced by --lane: every pushed commit runs that lane
        decision = decide(
            loaded,
            push_lines=options.push_lines,
            report_dir=options.report_dir,
            env=os.environ if env is None else env,
        )
        if decision.lane is None:
            return RunResult(exit_code=0, plan=None, reasons=decision.reasons)
    refs = [ref for ref in parse_push_lines(options.push_lines or ()) if not ref.deleted]
    tree = read_work_tree(loaded.root, [ref.local_sha for ref in refs])
    pushed = [
        (sha, ref.local_ref) for ref in refs if (sha := tree.commits[ref.local_sha]) is not None
    ]
    commits = distinct_commits(pushed)
    if not commits:
        return RunResult(exit_code=0, plan=None, reasons=("no pushed ref names a commit",))
    placements = place(commits, tree.head, _differing(loaded, tree, options.report_dir))
    base = options._replace(push_lines=None, lane_decision=decision)
    results: list[RunResult] = []
    for placement in placements:
        on_event(Notice(_said(placement), warning=False))
        checked = CheckedCommit(placement.commit.sha, _name(placement), placement.tree)
        ask = base._replace(checked=checked)
        if placement.in_place:
            result = run(ask)
        else:
            result = _in_worktree(tree, placement, ask._replace(outputs=loaded.root), run)
        results.append(result)
        if result.exit_code in _STOP:
            break
    return _combined(results)


def _said(placement: Placement) -> str:
    """Which tree a commit is checked in, and why there."""
    where = "in place" if placement.in_place else "in a temporary worktree"
    return f"checking the pushed commit {placement.commit.label} {where}: {placement.why}"


def _name(placement: Placement) -> str | None:
    refs = placement.commit.refs
    return refs[0].removeprefix("refs/heads/") if refs else None


def _differing(loaded: LoadedConfig, tree: WorkTree, report_dir: Path | None) -> list[str]:
    """The work tree's changes under the stages' inputs (workflow's own outputs aside)."""
    top = tree.top.resolve()
    outputs = [rel for path in loaded.own_outputs(report_dir) if (rel := _relative(path, top))]
    changed = [path for path in tree.changed if own_output_of(path, outputs) is None]
    scopes = []
    for name, stage in loaded.config.stages.items():
        cwd = _relative(loaded.resolve(stage.cwd), top)
        if cwd is None:
            continue  # outside the work tree: nothing of it is in the commit
        patterns = None
        if stage.inputs is not None:
            patterns = compile_globs(stage.inputs, f"stages.{name}.inputs")
        scopes.append(InputScope("" if cwd == "." else cwd, patterns))
    config = [] if loaded.path is None else [_relative(loaded.path, top) or ""]
    return list(differing_inputs(changed, scopes, always=config))


def _relative(path: Path, top: Path) -> str | None:
    try:
        return path.resolve().relative_to(top).as_posix()
    except ValueError:
        return None


def _in_worktree(
    tree: WorkTree, placement: Placement, ask: RunOptions, run: Callable[[RunOptions], RunResult]
) -> RunResult:
    """Run `ask` on the pushed commit checked out apart, and take that tree away again."""
    sweep_stale(tree.top)
    watchdog = Watchdog(f"push-{os.getpid()}-{os.urandom(3).hex()}")
    watchdog.start()
    try:
        with signals_raise():
            path = new_worktree_path()
            # Should workflow be killed from here on, the watchdog takes the tree away.
            remove = [sys.executable, "-m", "lanes.worktree", "remove", str(tree.top), str(path)]
            watchdog.ondeath(remove)
            try:
                with signals_deferred():
                    _checkout(tree.top, path, placement)
                return _run_in(path / tree.prefix, placement, ask, run)
            finally:
                with signals_deferred():
                    remove_worktree(tree.top, path)
    finally:
        watchdog.close()


def _run_in(
    project: Path, placement: Placement, ask: RunOptions, run: Callable[[RunOptions], RunResult]
) -> RunResult:
    """The commit's run with the project's directory in its tree as the working directory."""
    if not project.is_dir():
        why = f"the pushed commit {placement.commit.label} has no {project.name}: nothing to check"
        return RunResult(exit_code=0, plan=None, reasons=(why,))
    return run(ask._replace(cwd=project))


def _checkout(top: Path, path: Path, placement: Placement) -> None:
    from orchestrator.gitio import GitError  # noqa: PLC0415 - the same module the worktree uses

    try:
        add_worktree(top, path, placement.commit.sha)
    except GitError as exc:
        raise CheckoutError(
            f"the pushed commit {placement.commit.label} could not be checked out to be "
            f"checked: {exc.message}"
        ) from exc


def _combined(results: Sequence[RunResult]) -> RunResult:
    """One result for the push: the worst commit's, with every commit's in `commits`."""
    worst = worst_exit_code(result.exit_code for result in results)
    first = next(result for result in results if result.exit_code == worst)
    if len(results) == 1:
        return first
    return first._replace(commits=tuple(results))
