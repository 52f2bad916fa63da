"""`workflow select explain STAGE [TEST]`: why a test would run or be skipped.

The decision is the one `workflow run` would make now (`pipeline/selection.py`), for the
stage's own `select` (a stage that does not select is explained as `affected` would
select it, and says so). Nothing is written.
"""

from __future__ import annotations

from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.errors import UnknownStageError, UsageError
from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.selection import SelectMode, explain_test
from orchestrator.pipeline.plan import PlannedStage
from orchestrator.pipeline.selection import decide_stage

SHOWN = 200  # tests listed by `select explain STAGE`


def _planned(loaded: LoadedConfig, name: str) -> PlannedStage:
    stage = loaded.config.stages.get(name)
    if stage is None:
        known = ", ".join(loaded.config.stages) or "(none)"
        raise UnknownStageError(f"no stage named {name!r} (stages: {known}).")
    if stage.run is None or not is_pytest(stage.run):
        raise UsageError(f"stage {name!r} does not run pytest: it has no tests to select.")
    return PlannedStage(
        name=name,
        number=stage.number,
        config=stage,
        cwd=loaded.resolve(stage.cwd),
        target_s=stage.timeout,
        max_rss_bytes=None,
        critical=False,
        kind=stage.kind or "cpu",
        kind_source="declared",
        expected=None,
        needs=(),
    )


def explain_selection(loaded: LoadedConfig, name: str, test: str | None = None) -> list[str]:
    """Lines saying what the stage's selection would do now, or why `test` would run or
    be skipped. Raises UnknownStageError (no such stage) or UsageError (not pytest)."""
    stage = _planned(loaded, name)
    setting = stage.config.select
    mode = SelectMode.AFFECTED if setting == "all" else SelectMode(setting)
    where = (loaded.history_file, loaded.own_outputs(), False)
    decided = decide_stage(loaded, stage, mode, where)
    decision = decided.select.decision
    lead = f'{name}: select = "{setting}"'
    if setting == "all":
        lead += ' (every test runs; this is what select = "affected" would do)'
    if decision is None or decided.depmap is None or decided.current is None:
        return [lead, f"  {decided.select.reason}"]
    if test is not None:
        return explain_test(decided.depmap, decided.current, decision, test)
    known = decision.known
    running = known if decision.run_all is not None else len(decision.why)
    lines = [
        lead,
        f"  would run {running:,} of {known:,} known tests, and any new ones: {decision.reason}",
    ]
    if decision.run_all is None:
        listed = sorted(decision.why.items())
        lines += [f"  {test_id}: {why}" for test_id, why in listed[:SHOWN]]
        if len(listed) > SHOWN:
            lines.append(f"  ... and {len(listed) - SHOWN:,} more")
    return lines
