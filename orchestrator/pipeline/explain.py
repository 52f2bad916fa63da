"""`workflow cache explain NAME`: what changed in a stage's key since its last stored pass.

Apart from `pipeline/cached.py` so that a run never loads the comparison of key parts
(`cache/explain.py`): only this command needs it.
"""

from __future__ import annotations

import os

from orchestrator.cache.explain import explain, keyed_by
from orchestrator.cache.key import StageIdentity
from orchestrator.cache.store import CacheStore
from orchestrator.configfile.load import LoadedConfig
from orchestrator.history.profiles import latest_records
from orchestrator.model.errors import UnknownStageError
from orchestrator.pipeline.cachekeys import current_keys, store_salt

UNSTORED_SHOWN = 5  # newest unstored passes named by `cache explain`


def explain_stage(loaded: LoadedConfig, store: CacheStore, name: str) -> list[str]:
    """`workflow cache explain NAME`: what changed in the stage's key since its last pass,
    then what the key holds (the tool and how it is known, its Python environments, its
    configuration files).

    Raises UnknownStageError when the configuration has no such stage.
    """
    stage = loaded.config.stages.get(name)
    if stage is None:
        known = ", ".join(loaded.config.stages) or "(none)"
        raise UnknownStageError(f"no stage named {name!r} (stages: {known}).")
    if not stage.cache:
        return [f"{name}: cache = false: it always runs."]
    selection = "affected" if stage.select == "affected" else ""
    identity = StageIdentity(
        name, stage, loaded.resolve(stage.cwd), loaded.own_outputs(), selection
    )
    salt = store_salt(store, [identity], create=False)
    now = current_keys([identity], os.environ, salt, store, learn=False)[name]
    if isinstance(now, str):
        return [f"{name}: not cacheable: {now}."]
    unstored = unstored_passes(loaded, name)
    last = store.last_pass(name)
    holds = ["its key holds:", *(f"  {line}" for line in keyed_by(now))]
    if last is None:
        return [f"{name}: no pass of this stage is in the cache ({store.root}).", *unstored, *holds]
    if last.key == now.digest():
        lines = [f"{name}: unchanged since run {last.run_id}: the next run reuses its pass."]
    else:
        lines = [f"{name}: changed since its last stored pass (run {last.run_id}):"]
        lines += [f"  {line}" for line in explain(last.parts, now)]
    return [*lines, *unstored, *holds]


def unstored_passes(loaded: LoadedConfig, name: str, limit: int = UNSTORED_SHOWN) -> list[str]:
    """Why the stage's newest passes were not stored, from the saved run records
    (newest first, back to the newest run that stored one): "needed a rerun", "its
    inputs or tools changed while it ran", ... [] when the newest run stored its pass."""
    reports = loaded.output_path(loaded.config.workflow.reports)
    found: list[str] = []
    for data in latest_records(reports):
        stage = _stage(data, name)
        cache = stage.get("cache") if stage is not None else None
        if stage is None or (isinstance(cache, dict) and cache.get("hit")):
            continue  # not in that run, or reused there: nothing was decided about storing
        if isinstance(cache, dict) and cache.get("stored"):
            break
        if stage.get("status") == "passed":
            why = cache.get("reason") if isinstance(cache, dict) else None
            found.append(f"  run {data.get('run_id')}: {why or 'the cache was off'}")
        if len(found) >= limit:
            break
    if not found:
        return []
    noun = "pass was" if len(found) == 1 else f"{len(found)} passes were"
    return [f"{name}: its last {noun} not stored:", *found]


def _stage(data: dict[str, object], name: str) -> dict[str, object] | None:
    stages = data.get("stages")
    if not isinstance(stages, list):
        return None
    return next((s for s in stages if isinstance(s, dict) and s.get("name") == name), None)
