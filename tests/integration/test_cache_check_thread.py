"""The cache's after-run check of a stage never holds back the next stage's start.

A real project in a real git repository, real stage processes, the library's own run.
The check is made to wait (a subclass of RunCache, no stand-in for anything) until the
stage that needs the checked one has started: on the pool's event thread that stage
could never start, and the check would give up waiting.
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest

from orchestrator.engine.pool import StageEvent
from orchestrator.model.config import Lane
from orchestrator.model.records import StageRecord
from orchestrator.pipeline.cached import RunCache
from orchestrator.pipeline.prepare import RunOptions, prepare_run
from orchestrator.pipeline.run import execute_run, start_run
from orchestrator.pipeline.workflow import run_cache
from tests.integration.cache_repo import git, make_repo

pytestmark = pytest.mark.integration

GIVE_UP_S = 60.0  # only reached when the fault is back: the test then fails, not hangs
PY = json.dumps(sys.executable)


@dataclass
class WaitingCache(RunCache):
    """Checks `first` only once `second` has started (or GIVE_UP_S passed)."""

    second_started: threading.Event = field(default_factory=threading.Event)
    seen_second: bool | None = None

    def after(self, record: StageRecord) -> None:
        if record.name == "first":
            self.seen_second = self.second_started.wait(GIVE_UP_S)
        super().after(record)


def test_the_next_stage_starts_while_the_cache_checks_the_last(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    (repo / "workflow.toml").write_text(
        f'[stages.first]\nrun = [{PY}, "-c", "print(1)"]\n'
        f'[stages.second]\nrun = [{PY}, "-c", "print(2)"]\nneeds = ["first"]\ncache = false\n',
        encoding="utf-8",
    )
    git(repo, "add", "workflow.toml")
    git(repo, "commit", "-q", "-m", "config")
    prepared = prepare_run(RunOptions(cwd=repo, lane=Lane.HEAVY, history=False))
    assert prepared.request is not None
    start = start_run(prepared.request)
    plain = run_cache(prepared.request, start)
    assert plain is not None
    cache = WaitingCache(**{f.name: getattr(plain, f.name) for f in fields(plain)})

    def on_event(event: StageEvent) -> None:
        if event.kind == "start" and event.name == "second":
            cache.second_started.set()

    record = execute_run(prepared.request, start, on_event, cache=cache)
    assert cache.seen_second is True
    assert [stage.status.value for stage in record.stages] == ["passed", "passed"]
    first = record.stage("first")
    assert first is not None and first.cache is not None and first.cache.stored is True
