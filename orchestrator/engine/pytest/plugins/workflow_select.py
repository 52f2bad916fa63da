"""pytest plugin: deselect the tests a change cannot affect, and learn what each test runs.

workflow loads it (`-p workflow_select`) on a stage with `select`, with `WORKFLOW_SELECT`
naming a JSON file: `{"skip": [node ids], "learn": {...} or null, "out": PATH}`.

- Selection: after every other plugin has selected (`-k`, `-m`, `--deselect`), the
  listed tests are deselected; anything else collected runs (a new test always does).
  The number collected before this deselection is what the stage would run without
  selection.
- Learning (coverage.py): each test's setup, call and teardown run in a coverage context
  named by its node id, a fixture wider than a function in a context of its own (every
  test that uses it depends on what its setup ran), and what runs outside any test
  (collection, imports) in the context "". Python processes a test starts are measured
  too (`select_site/sitecustomize.py`, with the test's id in their environment); files
  and directories the project's code reads are recorded through an audit hook. At the
  end, each context's lines become function bodies (`workflow_pieces`).

Everything goes to `<out>.<process>.json` (one file per process: an xdist worker writes
its own). It runs inside the stage's own Python environment (3.8 or later): the standard
library, pytest and coverage (the stage's own, else workflow's when the interpreters
match: `learn.coverage`).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

ENV = "WORKFLOW_SELECT"
NO_TESTS_COLLECTED = 5


def _read(value: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(value).read_text("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"{ENV}: not a selection file: {exc}") from exc


class Selection:
    """One process's selection and learning."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.skip: set[str] = set(settings.get("skip") or ())
        self.out = str(settings["out"])
        self.collected: list[str] = []
        self.deselected = 0
        self.outcomes: dict[str, str] = {}
        self.learner: Any | None = None
        self.why_not: str | None = None
        self.process = "main"
        learn = settings.get("learn")
        if learn:
            # Coverage and the audit hook load only for a stage that learns.
            from workflow_select_learn import (  # type: ignore[import-not-found]  # noqa: PLC0415
                Learner,
                start_problem,
            )

            self.why_not = start_problem(learn)
            if self.why_not is None:
                learner = Learner(learn)
                self.why_not = learner.why_not
                self.learner = learner if learner.why_not is None else None

    def select(self, config: pytest.Config, items: list[Any]) -> None:
        """Keep what the change can affect (the module's hook calls it)."""
        self.collected = [item.nodeid for item in items]
        if not self.skip:
            return
        keep = [item for item in items if item.nodeid not in self.skip]
        dropped = [item for item in items if item.nodeid in self.skip]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            self.deselected = len(dropped)
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: Any) -> Any:
        """The test's setup, call and teardown in the test's own coverage context."""
        if self.learner is not None:
            self.learner.enter_test(item)
        yield
        if self.learner is not None:
            self.learner.leave_test()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any) -> Any:
        """A fixture wider than a function is set up in its own context."""
        entered = self.learner is not None and self.learner.enter_fixture(fixturedef)
        yield
        if entered and self.learner is not None:
            self.learner.leave_fixture()

    def pytest_runtest_logreport(self, report: Any) -> None:
        """Each test's outcome: failed if any phase failed, skipped if it was skipped."""
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped and self.outcomes.get(report.nodeid) != "failed":
            self.outcomes[report.nodeid] = "skipped"
        else:
            self.outcomes.setdefault(report.nodeid, "passed")

    def _all_deselected(self, session: pytest.Session) -> bool:
        """Whether selection, not the suite, left nothing to run: here, or (an xdist
        controller, which collects nothing itself) in every worker, whose files are
        written by the time the controller's session ends."""
        if self.deselected:
            return not session.items
        workers = []
        for path in Path(self.out).parent.glob(f"{Path(self.out).name}.gw*.json"):
            try:
                workers.append(json.loads(path.read_text("utf-8")))
            except (OSError, ValueError):
                return False
        return bool(workers) and all(
            int(w.get("deselected", 0)) > 0
            and int(w.get("deselected", 0)) == int(w.get("collected", -1))
            for w in workers
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write what this process selected and learned; a session whose every test was
        deselected by the selection has passed, not failed to collect."""
        config = session.config
        self.process = str(getattr(config, "workerinput", {}).get("workerid", "main"))
        if exitstatus == NO_TESTS_COLLECTED and self._all_deselected(session):
            session.exitstatus = 0
        data: dict[str, Any] = {
            "version": 1,
            "process": self.process,
            "collected": len(self.collected),
            "collected_ids": self.collected,
            "deselected": self.deselected,
            "outcomes": self.outcomes,
            "why_not": self.why_not,
            "learned": None,
        }
        if self.learner is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                data["learned"] = self.learner.finish(config)
            data["why_not"] = self.learner.why_not
        path = Path(f"{self.out}.{self.process}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(data), encoding="utf-8")
        partial.replace(path)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    """After every other plugin has selected (`-k`, `-m`, `--deselect`), and before a
    split stage's part keeps its share: workflow names this plugin before
    `workflow_split`, and of the hooks that run last the first registered runs first."""
    selection = config.pluginmanager.get_plugin("workflow-select")
    if selection is not None:
        selection.select(config, items)


def _started() -> Selection | None:
    """The process's selection, learning from now on: workflow names this plugin first
    (`-p workflow_select`), so it is imported before any other plugin named with `-p`,
    any installed one and any conftest, and what their imports run is measured too."""
    value = os.environ.get(ENV)
    return Selection(_read(value)) if value else None


_STARTED = _started()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """The selection joins the session's plugins, before the first conftest is read."""
    if _STARTED is not None and not early_config.pluginmanager.has_plugin("workflow-select"):
        early_config.pluginmanager.register(_STARTED, "workflow-select")
