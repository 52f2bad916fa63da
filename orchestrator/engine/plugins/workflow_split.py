"""pytest plugin: keep this part's share of the collected tests, deselect the rest.

workflow runs a stage with `split` as N pytest processes over the same arguments; each
loads this plugin with `WORKFLOW_SPLIT` holding (or naming a file of) the JSON
`{"part": k, "plan": {...}}` (k from 0; the plan as `orchestrator/model/splitplan.py`
writes it). Every part collects
the same tests and computes the same assignment, so every collected test runs in
exactly one part (pytest-split works the same way). Tests the plan places one by one (of
a file too heavy for one part) go where it put them; files the plan does not know (new
tests) are placed here, each at the median test's duration times its test count onto the
least loaded part; tests marked `xdist_group(name)` go to the part of the group's first
test, so tests that must run together do.

It runs inside the stage's own Python environment, which need not have workflow
installed: standard library and pytest only. A part with no tests passes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

ENV = "WORKFLOW_SPLIT"
NO_TESTS_COLLECTED = 5  # pytest's exit status when nothing was selected


def assign_parts(items: Sequence[tuple[str, str | None]], plan: Mapping[str, Any]) -> list[int]:
    """The part (from 0) of each collected test: `items` are (node id, xdist group or None)
    in collection order; `plan` is a split plan's JSON form."""
    parts = int(plan["parts"])
    placed = {str(f): int(p) for f, p in dict(plan["files"]).items() if 0 <= int(p) < parts}
    by_test = {
        str(t): int(p) for t, p in dict(plan.get("tests", {})).items() if 0 <= int(p) < parts
    }
    loads = [float(x) for x in plan["loads_s"]][:parts]
    loads += [0.0] * (parts - len(loads))
    median = float(plan["median_s"])
    unknown: dict[str, int] = {}
    for node_id, _ in items:
        file = node_id.split("::", 1)[0]
        if node_id not in by_test and file not in placed:
            unknown[file] = unknown.get(file, 0) + 1
    for file, count in sorted(unknown.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(parts), key=lambda i: (loads[i], i))
        placed[file] = target
        loads[target] += count * median
    chosen = [
        by_test[node_id] if node_id in by_test else placed[node_id.split("::", 1)[0]]
        for node_id, _ in items
    ]
    first_of_group: dict[str, int] = {}
    for index, (_, group) in enumerate(items):
        if group is not None:
            chosen[index] = first_of_group.setdefault(group, chosen[index])
    return chosen


def _group(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("xdist_group")
    if mark is None:
        return None
    name = mark.kwargs.get("name", mark.args[0] if mark.args else None)
    return None if name is None else str(name)


def _read(value: str) -> tuple[int, Mapping[str, Any]]:
    """The part and plan in WORKFLOW_SPLIT: the JSON itself, or the path of a file of it."""
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text("utf-8")
        data = json.loads(text)
        return int(data["part"]), data["plan"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise pytest.UsageError(f"{ENV}: not a split part: {exc}") from exc


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """After every other plugin has selected: keep this part's tests."""
    path = os.environ.get(ENV)
    if not path:
        return
    part, plan = _read(path)
    chosen = assign_parts([(item.nodeid, _group(item)) for item in items], plan)
    keep = [item for item, p in zip(items, chosen, strict=True) if p == part]
    dropped = [item for item, p in zip(items, chosen, strict=True) if p != part]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        config.stash[_DROPPED] = True
    items[:] = keep


_DROPPED = pytest.StashKey[bool]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A part left with no tests of its own has passed, not failed to collect."""
    if exitstatus == NO_TESTS_COLLECTED and session.config.stash.get(_DROPPED, False):
        session.exitstatus = 0
