"""`workflow cache explain NAME`: what changed in a stage's key since its last stored pass.

Apart from `pipeline/cached.py` so that a run never loads the comparison of key parts
(`cache/explain.py`): only this command needs it.
"""

from __future__ import annotations

import os

from orchestrator.cache.explain import explain
from orchestrator.cache.key import StageIdentity
from orchestrator.cache.store import CacheStore
from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.errors import UnknownStageError
from orchestrator.pipeline.cached import current_keys, store_salt


def explain_stage(loaded: LoadedConfig, store: CacheStore, name: str) -> list[str]:
    """`workflow cache explain NAME`: what changed in the stage's key since its last pass.

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
    now = current_keys([identity], os.environ, salt)[name]
    if isinstance(now, str):
        return [f"{name}: not cacheable: {now}."]
    last = store.last_pass(name)
    if last is None:
        return [f"{name}: no pass of this stage is in the cache ({store.root})."]
    if last.key == now.digest():
        return [f"{name}: unchanged since run {last.run_id}: the next run reuses its pass."]
    lines = [f"{name}: changed since its last stored pass (run {last.run_id}):"]
    lines += [f"  {line}" for line in explain(last.parts, now)]
    return lines
