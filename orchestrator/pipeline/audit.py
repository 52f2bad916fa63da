"""`workflow cache audit STAGE`: run the stage once, recording what it reads, and name
every file of the repository it read that its cache key does not hold.

The stage runs alone through the engine (its cwd, env and timeout; no retries, a split
stage whole), with workflow's `sitecustomize` recording every Python process's opens and,
where it works, `strace -f` every program's (`engine/audit.py`). Its key is computed
before it starts, exactly as a run computes it; the comparison is `cache/audit.py`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.cache.audit import (
    Findings,
    Reads,
    Scope,
    compare,
    python_lines,
    strace_lines,
    suggested_inputs,
)
from orchestrator.cache.key import KeyParts
from orchestrator.cache.pathenvs import environment_of, shebang_interpreter
from orchestrator.cache.snapshot import take_snapshot
from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.audit import audited, strace_usable
from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.scheduling.sizing import read_machine
from orchestrator.engine.stageshapes import spec_of
from orchestrator.model.config import Lane, Strategy
from orchestrator.model.errors import Interrupted, UnknownStageError
from orchestrator.model.masking import run_masker
from orchestrator.model.records import StageRecord
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.cachekeys import current_keys, open_store, stage_identity, store_salt
from orchestrator.pipeline.plan import PlannedStage, PlanOptions, build_plan
from orchestrator.pipeline.signals import signals_cancel


@dataclass(frozen=True)
class AuditResult:
    """What the audit found: the stage's run, the files outside its key (None when the
    stage cannot be keyed at all: `reason` says why), the `inputs` line that adds them,
    and what it could not see (`blind_reason`: why programs other than Python went
    unseen, `blind`: those it knows were started)."""

    record: StageRecord
    log: Path | None
    findings: Findings | None
    reason: str | None
    suggestion: str | None
    blind_reason: str | None
    blind: tuple[str, ...]


def audit_stage(loaded: LoadedConfig, name: str, warnings: WriteWarnings) -> AuditResult:
    """Run stage `name` once under the audit; raises UnknownStageError for no such stage
    and Interrupted when a signal ends it."""
    if name not in loaded.config.stages:
        known = ", ".join(loaded.config.stages) or "(none)"
        raise UnknownStageError(f"no stage named {name!r} (stages: {known}).")
    options = PlanOptions(lane=Lane.HEAVY, only=(name,), strategy=Strategy.SEQUENTIAL, workers=1)
    plan = build_plan(loaded, options, read_machine())
    stage = next(s for s in plan.stages if s.name == name)
    reports = loaded.output_path(loaded.config.workflow.reports)
    excluded = loaded.own_outputs(reports)
    identity = stage_identity(stage, excluded)
    store = open_store(loaded)
    salt = b"" if store is None else store_salt(store, [identity], create=False)
    parts = current_keys([identity], os.environ, salt, store, learn=False)[name]
    blind_reason = strace_usable() if stage.config.run is not None else "a callable stage"
    with tempfile.TemporaryDirectory(prefix="workflow-audit-") as scratch:
        python_log, trace = Path(scratch) / "python.log", Path(scratch) / "strace.log"
        record = _run(loaded, stage, python_log, None if blind_reason else trace, warnings)
        reads = Reads()
        python_lines(_lines(python_log), reads)
        if blind_reason is None:
            strace_lines(_lines(trace), reads)
    blind = () if blind_reason is None else _not_python(stage, reads)
    log = None if record.log is None else _log_dir(loaded).parent / record.log
    if not isinstance(parts, KeyParts):
        return AuditResult(record, log, None, parts, None, blind_reason, blind)
    snapshot = take_snapshot(stage.cwd)
    if snapshot is None:
        return AuditResult(record, log, None, "not in a git work tree", None, blind_reason, blind)
    cwd = stage.cwd.resolve().relative_to(snapshot.top.resolve()).as_posix()
    scope = Scope(
        top=snapshot.top,
        cwd=cwd or ".",
        environments=tuple(Path(p) for p in parts.located.values()),
        excluded=excluded,
        ignored=snapshot.ignored,
    )
    findings = compare(reads, parts.inputs, scope)
    line = suggested_inputs(stage.config.inputs, findings) if findings.unkeyed else None
    return AuditResult(record, log, findings, None, line, blind_reason, blind)


def _run(
    loaded: LoadedConfig,
    stage: PlannedStage,
    python_log: Path,
    trace: Path | None,
    warnings: WriteWarnings,
) -> StageRecord:
    pythonpath = stage.config.env.get("PYTHONPATH", os.environ.get("PYTHONPATH", ""))
    pool = AdaptiveWorkerPool(
        Strategy.SEQUENTIAL,
        1,
        log_dir=_log_dir(loaded),
        masker=run_masker([stage.config.env]),
        import_root=loaded.root,
        warnings=warnings,
    )
    pool.submit(audited(spec_of(stage), python_log, trace, pythonpath))
    with signals_cancel(pool) as received:
        try:
            pool.wait_all()
        finally:
            pool.shutdown()
    if received:
        raise Interrupted(received[0])
    return pool.results[0]


def _log_dir(loaded: LoadedConfig) -> Path:
    return loaded.output_path(loaded.config.workflow.reports) / "audit" / "logs"


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except FileNotFoundError:
        return []


def _not_python(stage: PlannedStage, reads: Reads) -> tuple[str, ...]:
    """The programs the stage started (its own command among them) that are not Python:
    without strace, nothing they read was seen."""
    started = set(reads.programs)
    if stage.config.run is not None:
        started.add(stage.config.run[0])
    return tuple(sorted(p for p in started if not _is_python(p, stage.cwd)))


def _is_python(program: str, cwd: Path) -> bool:
    found = shutil.which(program) if os.sep not in program else str(cwd / program)
    if found is None:
        return False
    path = Path(found)
    if shebang_interpreter(path) is not None:
        return True
    return path.name.startswith("python") and environment_of(path) is not None
