"""A pytest stage with `select`: hand the selection to the plugin, read back what it did.

The decision (`pipeline/selection.py`) reaches the stage's pytest processes through
workflow's plugin (`-p workflow_select`, `engine/pytest/plugins/workflow_select.py`) and a
file each process is given in `WORKFLOW_SELECT`: the tests to deselect, and where and
how to measure. Reruns of failed tests are not given it: they name their tests
themselves, and learn nothing. After the processes end, their files say how many tests
were collected (what the stage would run without selection) and deselected, and how
each test ended, from which the stage's `tests.selection` is made; the same files are
read again when the run is recorded, to bring the dependency map up to date
(`pipeline/learned.py`). Everything here is in the run's `tests/` directory.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from orchestrator.engine.spec import StageSpec
from orchestrator.model.pytestargv import with_plugin_first
from orchestrator.model.selection import SelectMode, SelectRun
from orchestrator.model.testresults import TestSelection, TestsSummary

PLUGIN = "workflow_select"
ENV = "WORKFLOW_SELECT"
DECISION = ".select.json"  # the stage's decision, kept for updating the map
SHIM = "select-python"  # workflow's coverage alone, for stages that have none


def select_argv(argv: tuple[str, ...]) -> tuple[str, ...]:
    """The command with workflow's selection plugin named first: its hook must deselect
    before a split part's plugin (`-p workflow_split`, named later) keeps its share."""
    return with_plugin_first(argv, PLUGIN)


def write_decision(select: SelectRun, scratch: Path, stem: str) -> Path:
    """The stage's decision as the run keeps it: mode, reason, what it skips (or would),
    and the facts it was made on. Raises OSError."""
    path = scratch / f"{stem}{DECISION}"
    data = {
        "mode": select.mode.value,
        "reason": select.reason,
        "skip": sorted(select.skip),
        "would_skip": sorted(select.would_skip),
        "learning": select.learn is not None,
        "record": dict(select.record),
    }
    scratch.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def process_env(select: SelectRun, scratch: Path, stem: str) -> dict[str, str]:
    """The environment that makes one pytest process (a stage, or a part of one) select
    and learn: `WORKFLOW_SELECT` naming its settings file. Raises OSError."""
    learn: dict[str, Any] | None = None
    if select.learn is not None:
        children = scratch / f"{stem}.children"
        children.mkdir(parents=True, exist_ok=True)
        learn = {
            **select.learn,
            "dir": str(children),
            "python": sys.implementation.cache_tag,
            "coverage": _coverage_shim(scratch),
        }
    settings = {
        "skip": sorted(select.skip),
        "out": str(scratch / f"{stem}.select.out"),
        "learn": learn,
    }
    path = scratch / f"{stem}.select.in.json"
    path.write_text(json.dumps(settings), encoding="utf-8")
    return {ENV: str(path)}


def _coverage_shim(scratch: Path) -> str | None:
    """A directory holding only workflow's own coverage package (a link to it), for a
    stage whose environment has none: the stage must not see anything else of
    workflow's environment (a missing dependency of the project must stay missing)."""
    try:
        import coverage  # noqa: PLC0415 - only for a stage that learns
    except ImportError:
        return None
    shim = scratch / SHIM
    link = shim / "coverage"
    try:
        shim.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(Path(coverage.__file__).parent, target_is_directory=True)
    except FileExistsError:
        pass  # another part made it
    except OSError:
        return None
    return str(shim)


def process_outputs(scratch: Path, stem: str) -> list[dict[str, Any]]:
    """What each pytest process of `stem` wrote (an xdist run has one per worker)."""
    found = []
    for path in sorted(scratch.glob(f"{stem}.select.out.*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            data["file"] = str(path)
            found.append(data)
    return found


def stage_selection(
    select: SelectRun,
    outputs: Sequence[Mapping[str, Any]],
    summary: TestsSummary | None,
    files: Sequence[str],
) -> TestSelection:
    """The stage's `tests.selection` from its processes' files (`outputs`) and its tests'
    summary (what ran, and which tests were flaky: they are no escape)."""
    collected = max((int(o.get("collected", 0)) for o in outputs), default=0)
    outcomes: dict[str, str] = {}
    for output in outputs:
        outcomes.update(output.get("outcomes", {}))
    ran = (
        summary.passed + summary.failed + summary.skipped + summary.errors
        if summary is not None
        else len(outcomes)
    )
    reason = select.reason
    if not outputs:
        reason += "; the stage left no record of its selection (did pytest start?)"
    if select.mode is SelectMode.SHADOW:
        ids = {i for o in outputs for i in o.get("collected_ids", ())}
        flaky = set(summary.flaky) if summary is not None else set()
        escapes = sorted(
            test
            for test in select.would_skip
            if outcomes.get(test) == "failed" and test not in flaky
        )
        would_run = len(ids - select.would_skip) if ids else collected
        return TestSelection(
            mode="shadow",
            selected=would_run,
            total=collected or ran,
            reason=reason,
            escapes=tuple(escapes),
            files=tuple(files),
        )
    return TestSelection(
        mode=select.mode.value,
        selected=ran,
        total=max(collected, ran),
        reason=reason,
        files=tuple(files),
    )


def with_selection(summary: TestsSummary | None, selection: TestSelection) -> TestsSummary:
    """The summary carrying its selection: `total` becomes what the stage would run
    without selection (the other counts stay those of the tests that ran)."""
    base = summary if summary is not None else TestsSummary()
    return replace(base, total=selection.total, selection=selection)


def selecting(spec: StageSpec, scratch: Path, stem: str) -> StageSpec:
    """The spec with the selection plugin, its decision kept in the run directory;
    without a writable run directory every test runs (the record says why)."""
    select = spec.select
    if select is None or spec.command is None:
        return spec
    try:
        write_decision(select, scratch, stem)
    except OSError as exc:
        reason = f"{select.reason}; not applied: {exc.strerror or exc}, so every test ran"
        return replace(spec, select=replace(select, skip=frozenset(), reason=reason))
    return replace(spec, command=select_argv(spec.command))


def selection_env(spec: StageSpec, scratch: Path, stem: str) -> dict[str, str]:
    """What one pytest process (the stage, or a part) needs in its environment to select
    and learn; {} (it runs every test, learning nothing) when the run directory cannot
    take its settings."""
    if spec.select is None or spec.command is None:
        return {}
    try:
        return process_env(spec.select, scratch, stem)
    except OSError:
        return {}


def selected(
    spec: StageSpec,
    where: tuple[Path, str],
    processes: Sequence[str],
    tests: TestsSummary | None,
    reference: Callable[[Path], str],
) -> TestsSummary | None:
    """The stage's tests with their selection, from the files its processes wrote
    (`where`: the run's tests/ directory and the stage's file stem; `processes`: the
    stems of its pytest processes; `reference`: a path as the record names it)."""
    if spec.select is None:
        return tests
    scratch, stem = where
    outputs = [o for name in processes for o in process_outputs(scratch, name)]
    decision = scratch / f"{stem}{DECISION}"
    files = [reference(decision)] if decision.exists() else []
    files += [reference(Path(o["file"])) for o in outputs]
    return with_selection(tests, stage_selection(spec.select, outputs, tests, files))
