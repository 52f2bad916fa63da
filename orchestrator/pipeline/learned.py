"""After a run: what a selecting stage's tests ran, made into its dependency map's update.

Each pytest process of the stage (the stage, its split parts, their xdist workers; the
shards' files once `workflow merge` has gathered them) wrote what it collected, how
each test ended and, when it learned, what each coverage context ran and read
(`engine/pytest/plugins/workflow_select_learn.py`). Here those are joined and turned into
piece versions with today's fingerprints (`learnmap.py`); nothing is learned when the
stage's inputs changed while it ran (what ran may not be what is on disk). The baseline
moves only with a complete run (every test it meant to run has an outcome): a run that
stopped early leaves the reasons to run everything in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.cache.environments import EnvironmentMemo
from orchestrator.cache.filestate import Unkeyable
from orchestrator.cache.key import StageIdentity, key_inputs
from orchestrator.cache.snapshot import take_snapshot
from orchestrator.gitio import GitError
from orchestrator.history.depmap import MapUpdate, known_sources, remember_sources, save_map
from orchestrator.history.schema import HistoryError
from orchestrator.model.config import StageConfig
from orchestrator.model.errors import ConfigError
from orchestrator.model.records import RunRecord, StageRecord
from orchestrator.model.selectrules import Baseline
from orchestrator.model.status import StageStatus
from orchestrator.pipeline.learnmap import Learned, learned_tests
from orchestrator.pipeline.sourceprints import SourcePrints

DECISION = ".select.json"
OUTPUT = ".select.out."
_ENDED = (StageStatus.PASSED, StageStatus.FAILED)  # a stage that ran its tests to the end


def update_maps_safely(history: Path, record: RunRecord, run_dir: Path) -> str | None:
    """Bring every selecting stage's map up to date; one sentence on the first problem
    (the run stands)."""
    for stage in record.stages:
        selection = stage.tests.selection if stage.tests is not None else None
        if selection is None or not selection.files:
            continue
        try:
            update = stage_update(record.run_id, stage, run_dir, history)
            if update is not None:
                save_map(history, stage.name, update)
        except HistoryError as exc:
            return f"test selection map not written: {exc.message.rstrip('.')}."
        except Exception as exc:  # a broken map must never fail the run it describes
            return f"test selection map of {stage.name} not written: {type(exc).__name__}: {exc}."
    return None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stage_update(run_id: str, stage: StageRecord, run_dir: Path, history: Path) -> MapUpdate | None:
    """What this run adds to the stage's map; None when it left nothing to read."""
    files = stage.tests.selection.files if stage.tests and stage.tests.selection else ()
    decision = next((_read(run_dir / f) for f in files if f.endswith(DECISION)), None)
    outputs = [o for f in files if OUTPUT in f and (o := _read(run_dir / f)) is not None]
    if decision is None or not outputs:
        return None
    outcomes: dict[str, str] = {}
    for output in outputs:
        outcomes.update(dict(output.get("outcomes", {})))
    flaky = set(stage.tests.flaky) if stage.tests is not None else set()
    outcomes = {
        t: "failed" if o == "failed" or t in flaky else "passed" for t, o in outcomes.items()
    }
    problem = next((str(o["why_not"]) for o in outputs if o.get("why_not")), None)
    sections = [o["learned"] for o in outputs if isinstance(o.get("learned"), dict)]
    plain = MapUpdate(run_id, {}, outcomes, None, None, problem)
    if not decision.get("learning") or not sections or len(sections) < len(outputs):
        return plain
    record = dict(decision.get("record", {}))
    prints = _prints_if_unchanged(record, sections[0])
    if prints is None:
        return MapUpdate(run_id, {}, outcomes, None, None, None)
    prints.remembered = _remembered(history, prints, sections)
    learned = learned_tests(Learned.joined(sections), outcomes, prints)
    remember_sources(history, prints.parsed)
    collected = frozenset(t for o in outputs for t in o.get("collected_ids", ()))
    skipped = set(decision.get("skip", ()))
    complete = stage.status in _ENDED and (collected - skipped) <= outcomes.keys()
    baseline = _baseline(record, sections) if complete else None
    return MapUpdate(run_id, learned, outcomes, collected if complete else None, baseline, None)


def _prints_if_unchanged(
    record: Mapping[str, Any], section: Mapping[str, Any]
) -> SourcePrints | None:
    """The work tree's fingerprints, when the stage's inputs are what the decision saw
    before it ran; None when they changed meanwhile (or cannot be read)."""
    try:
        snapshot = take_snapshot(Path(str(section["root"])))
    except GitError:
        return None
    if snapshot is None:
        return None
    cwd = Path(str(record.get("cwd", snapshot.top)))
    patterns = record.get("inputs")
    config = StageConfig(inputs=None if patterns is None else tuple(patterns))
    excluded = tuple(Path(p) for p in record.get("excluded", ()))
    identity = StageIdentity(str(record.get("stage", "")), config, cwd, excluded)
    try:
        inputs = key_inputs(identity, snapshot, os.environ, EnvironmentMemo())
    except (Unkeyable, ConfigError, OSError):
        return None
    if inputs != dict(record.get("now", {}).get("inputs", {})):
        return None
    return SourcePrints(snapshot)


def _remembered(
    history: Path, prints: SourcePrints, sections: list[dict[str, Any]]
) -> dict[str, str]:
    paths = {f for s in sections for f in s.get("files", ())}
    paths |= {f for s in sections for f in dict(s.get("modules", {})).values()}
    keys = [k for p in paths if p.endswith(".py") and (k := prints.key(p)) is not None]
    try:
        return known_sources(history, keys)
    except HistoryError:
        return {}


def _baseline(record: Mapping[str, Any], sections: list[dict[str, Any]]) -> Baseline:
    now = dict(record.get("now", {}))
    patterns = next((s.get("python_files") for s in sections if s.get("python_files")), None)
    return Baseline(
        inputs={str(k): str(v) for k, v in dict(now.get("inputs", {})).items()},
        environment={str(k): str(v) for k, v in dict(now.get("environment", {})).items()},
        config=str(now.get("config", "")),
        pytest_config=str(now.get("pytest_config", "")),
        plugins=frozenset(str(p) for s in sections for p in s.get("plugins", ())),
        python_files=tuple(patterns or ("test_*.py", "*_test.py")),
    )
