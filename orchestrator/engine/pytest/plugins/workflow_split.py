"""pytest plugin: keep this part's share of the collected tests, deselect the rest.

workflow runs a stage with `split` as N pytest processes over the same arguments; each
loads this plugin with `WORKFLOW_SPLIT` holding (or naming a file of) the JSON
`{"part": k, "plan": {...}, "report": PATH}` (k from 0; the plan as
`orchestrator/model/splitplan.py` writes it). Every part collects the same tests and
computes the same assignment from their ids alone (`assign_parts`: a list of ids in, a
part for each out), whatever order its process collected or shuffled them in
(pytest-randomly, a plugin's reordering): so every collected test runs in exactly one
part. Tests the plan places one by one (of a file too heavy for one part) go where it
put them; files the plan does not know (new tests) are placed here, each at the median
test's duration times its test count onto the least loaded part; tests marked
`xdist_group(name)` all go to the part of the group's first test by id, so tests that
must run together do. Each part writes what it collected to `report` (how many, and a
digest of their ids): parts whose collections differ (ids made from random values) are
told apart by workflow, which then fails the stage rather than trust the assignment.

It runs inside the stage's own Python environment, which need not have workflow
installed: standard library and pytest only. A part with no tests passes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

ENV = "WORKFLOW_SPLIT"
NO_TESTS_COLLECTED = 5  # pytest's exit status when nothing was selected


def assign_parts(
    tests: Sequence[str], plan: Mapping[str, Any], groups: Mapping[str, str] | None = None
) -> dict[str, int]:
    """The part (from 0) of each test id in `tests`, decided by the ids alone (their order
    does not matter): `plan` is a split plan's JSON form; `groups` maps a test id to its
    `xdist_group` name (every test of a group goes to the part of its first id)."""
    parts = int(plan["parts"])
    placed = {str(f): int(p) for f, p in dict(plan["files"]).items() if 0 <= int(p) < parts}
    by_test = {
        str(t): int(p) for t, p in dict(plan.get("tests", {})).items() if 0 <= int(p) < parts
    }
    loads = [float(x) for x in plan["loads_s"]][:parts]
    loads += [0.0] * (parts - len(loads))
    median = float(plan["median_s"])
    ids = sorted(set(tests))
    unknown: dict[str, int] = {}
    for test in ids:
        file = test.split("::", 1)[0]
        if test not in by_test and file not in placed:
            unknown[file] = unknown.get(file, 0) + 1
    for file, count in sorted(unknown.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(parts), key=lambda i: (loads[i], i))
        placed[file] = target
        loads[target] += count * median
    chosen = {test: by_test.get(test, placed.get(test.split("::", 1)[0], 0)) for test in ids}
    first_of_group: dict[str, int] = {}
    for test in ids:  # in id order: the group's first id decides
        group = (groups or {}).get(test)
        if group is not None:
            chosen[test] = first_of_group.setdefault(group, chosen[test])
    return chosen


def _group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    name = mark.kwargs.get("name", mark.args[0] if mark.args else None)
    return None if name is None else str(name)


def _read(value: str) -> tuple[int, Mapping[str, Any], str | None]:
    """The part, plan and report path in WORKFLOW_SPLIT: the JSON itself, or the path of a
    file of it."""
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text("utf-8")
        data = json.loads(text)
        report = data.get("report")
        return int(data["part"]), data["plan"], str(report) if report else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise pytest.UsageError(f"{ENV}: not a split part: {exc}") from exc


def _report(path: str, ids: Sequence[str], kept: int) -> None:
    """What this part collected, for workflow to compare with the other parts'."""
    digest = hashlib.sha256("\n".join(sorted(ids)).encode("utf-8", "replace")).hexdigest()
    data = {"collected": len(ids), "digest": digest[:16], "kept": kept}
    partial = Path(f"{path}.{os.getpid()}.tmp")  # xdist workers of one part write alike
    try:
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass  # workflow then cannot compare this part's collection, and says so


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """After every other plugin has selected: keep this part's tests."""
    path = os.environ.get(ENV)
    if not path:
        return
    part, plan, report = _read(path)
    ids = [item.nodeid for item in items]
    groups = {item.nodeid: g for item in items if (g := _group(item)) is not None}
    chosen = assign_parts(ids, plan, groups)
    keep = [item for item in items if chosen[item.nodeid] == part]
    dropped = [item for item in items if chosen[item.nodeid] != part]
    if report is not None:
        _report(report, ids, len(keep))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        config.stash[_DROPPED] = True
    items[:] = keep


_DROPPED = pytest.StashKey[bool]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A part left with no tests of its own has passed, not failed to collect."""
    if exitstatus == NO_TESTS_COLLECTED and session.config.stash.get(_DROPPED, False):
        session.exitstatus = 0
