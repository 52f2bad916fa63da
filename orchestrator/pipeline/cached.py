"""One run's use of the result cache: look up before the stages start, store after.

Before any stage starts, the work tree is read once (`take_snapshot`) and each cacheable
stage's key computed; a verified entry under that key is a hit: the stage is not run, its
record says `passed` with `cache.hit` and its log is the stored log under one line naming
the run it came from. A stage that ran and passed on its first attempt is stored only
when its key, computed again from a fresh reading of the work tree and the tools after it
ended, equals the key from before it started. Nothing here can fail a run: a cache that
cannot be read is a miss, one that cannot be written is a warning.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lanes.git import GitError
from orchestrator.cache.fingerprint import FingerprintMemo
from orchestrator.cache.key import KeyParts, StageIdentity, stage_key
from orchestrator.cache.snapshot import Snapshot, take_snapshot
from orchestrator.cache.store import CacheStore, Entry, Hit
from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.filenames import file_stem
from orchestrator.model.masking import SECRET_NAME
from orchestrator.model.status import StageStatus
from orchestrator.model.writes import WriteWarnings, reason
from orchestrator.pipeline.plan import Plan, PlannedStage

if TYPE_CHECKING:
    from orchestrator.model.records import StageCache, StageRecord

MB = 1024 * 1024


def open_store(loaded: LoadedConfig) -> CacheStore | None:
    """The configured cache, or None when `[workflow] cache` is ""."""
    setting = loaded.config.workflow.cache
    if not setting.strip():
        return None
    return CacheStore(loaded.resolve(setting), int(loaded.config.workflow.cache_size_mb * MB))


def store_salt(
    store: CacheStore, stages: list[StageIdentity], *, create: bool = True
) -> bytes | None:
    """The store's salt for `stages`' keys, or None when its directory cannot give one (a
    miss, not a failure); b"" when no stage has a secret-named `env` value to key.

    `create` False for what only looks (a dry run, `cache explain`): nothing is written.
    """
    if not any(SECRET_NAME.search(name) for stage in stages for name in stage.config.env):
        return b""  # unused: no salt file is made for nothing
    try:
        return store.salt(create=create)
    except OSError:
        return None


def stage_identity(stage: PlannedStage, excluded: tuple[Path, ...]) -> StageIdentity:
    """What the key needs to know about a planned stage (a stage whose tests this run
    selects is keyed as such: its pass does not vouch for a run of every test)."""
    selected = stage.select is not None and stage.select.mode == "affected"
    return StageIdentity(
        stage.name, stage.config, stage.cwd, excluded, "affected" if selected else ""
    )


def current_keys(
    stages: list[StageIdentity], environ: Mapping[str, str], salt: bytes | None
) -> dict[str, KeyParts | str]:
    """Each stage's key parts now, or the reason it cannot be cached (a sentence).

    The work tree is read once per distinct stage directory (usually once for the run):
    a stage inside a submodule is read from the submodule's own index. `salt` is the
    store's (`CacheStore.salt`); None when it could not be had: a stage with secret
    values in its `env` is then not cached.
    """
    memo = FingerprintMemo()
    snapshots: dict[Path, Snapshot | str] = {}
    keys: dict[str, KeyParts | str] = {}
    for stage in stages:
        if not stage.cwd.is_dir():
            keys[stage.name] = "its cwd does not exist"
            continue
        if stage.cwd not in snapshots:
            snapshots[stage.cwd] = _snapshot(stage.cwd)
        snapshot = snapshots[stage.cwd]
        if isinstance(snapshot, str):
            keys[stage.name] = snapshot
            continue
        if salt is None and any(SECRET_NAME.search(name) for name in stage.config.env):
            keys[stage.name] = "the cache's salt for its secret env values cannot be read"
            continue
        try:
            keys[stage.name] = stage_key(stage, snapshot, environ, memo, salt or b"")
        except OSError as exc:
            keys[stage.name] = f"its inputs could not be read: {reason(exc)}"
    return keys


def _snapshot(directory: Path) -> Snapshot | str:
    """The work tree's reading, or why there is none (a sentence): the run goes on."""
    try:
        snapshot = take_snapshot(directory)
    except GitError:  # git is not installed: nothing can say what the inputs are
        return "git was not found: its inputs cannot be known"
    return snapshot or "not in a git work tree: its inputs cannot be known"


@dataclass
class RunCache:
    """The cache as one run uses it; `lookup` False (`--no-cache`) still stores passes."""

    store: CacheStore
    plan: Plan
    run_id: str
    run_dir: Path
    excluded: tuple[Path, ...]
    warnings: WriteWarnings
    lookup: bool = True
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    before: dict[str, KeyParts | str] = field(default_factory=dict)
    results: dict[str, StageCache] = field(default_factory=dict)

    def _identities(self, names: set[str] | None = None) -> list[StageIdentity]:
        return [
            stage_identity(s, self.excluded)
            for s in self.plan.stages
            if s.config.cache and (names is None or s.name in names)
        ]

    def hits(self) -> dict[str, StageRecord]:
        """Compute every cacheable stage's key; the records of the stages reused."""
        started = time.monotonic()
        identities = self._identities()
        self.before = current_keys(identities, self.environ, store_salt(self.store, identities))
        reused: dict[str, StageRecord] = {}
        for stage in self.plan.stages:
            parts = self.before.get(stage.name)
            if not isinstance(parts, KeyParts) or _some_parts(stage):
                continue
            key = parts.digest()
            hit = self.store.get(key) if self.lookup else None
            if hit is None:
                continue
            spent = time.monotonic() - started
            reused[stage.name] = self._reused(stage, hit, spent)
            self.results[stage.name] = _records()[0](
                hit=True,
                key=key,
                from_run=hit.entry.run_id,
                saved_s=round(hit.entry.duration_s, 4),
            )
        return reused

    def _reused(self, stage: PlannedStage, hit: Hit, spent: float) -> StageRecord:
        log = self.run_dir / "logs" / f"{file_stem(stage.name)}.log"
        took = f"{hit.entry.duration_s:.1f}s"
        banner = f"workflow: cached result from run {hit.entry.run_id} (it took {took} there)\n"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_bytes(banner.encode("utf-8") + hit.log)
        except OSError as exc:
            self.warnings.add(f"{stage.name}'s log", log, exc)
        return _records()[1](
            number=stage.number,
            name=stage.name,
            status=StageStatus.PASSED,
            exit_code=0,
            attempts=0,
            duration_s=round(spent, 4),
            kind=stage.kind,
            command=stage.config.display_command,
            log=str(log.relative_to(self.run_dir)),
            needs=stage.needs,
            executor="cache",
        )

    def after(self, record: StageRecord) -> None:
        """Decide, and store, what the cache keeps of a stage that ran."""
        parts = self.before.get(record.name)
        if parts is None or record.name in self.results:
            return
        if isinstance(parts, str):
            self.results[record.name] = _records()[0](hit=False, key="", stored=False, reason=parts)
            return
        key = parts.digest()
        reason = _not_storable(record)
        if reason is None:
            identities = self._identities({record.name})
            salt = store_salt(self.store, identities)
            now = current_keys(identities, self.environ, salt).get(record.name)
            if not isinstance(now, KeyParts) or now.digest() != key:
                reason = "its inputs or tools changed while it ran"
        if reason is None:
            reason = self._store(record, parts)
        self.results[record.name] = _records()[0](
            hit=False, key=key, stored=reason is None, reason=reason
        )

    def _store(self, record: StageRecord, parts: KeyParts) -> str | None:
        try:
            log = (self.run_dir / record.log).read_bytes() if record.log else b""
            entry = Entry(
                parts.digest(), record.name, self.run_id, record.duration_s, time.time(), parts
            )
            self.store.put(entry, log)
        except OSError as exc:
            self.warnings.add(f"{record.name}'s result", self.store.root, exc)
            return "the cache could not be written"
        return None

    def annotate(self, record: StageRecord) -> StageRecord:
        """The record with what the cache did for it (unchanged when the cache did not apply)."""
        found = self.results.get(record.name)
        return record if found is None else replace(record, cache=found)


def preview(
    loaded: LoadedConfig, plan: Plan, report_dir: Path, *, lookup: bool = True
) -> dict[str, str]:
    """What `run --dry-run` says per stage: "would run" (and why) or "cached from RUN"."""
    store = open_store(loaded)
    if store is None:
        return {s.name: "would run (the cache is off)" for s in plan.stages}
    excluded = loaded.own_outputs(report_dir)
    identities = [stage_identity(s, excluded) for s in plan.stages if s.config.cache]
    keys = current_keys(identities, os.environ, store_salt(store, identities, create=False))
    said: dict[str, str] = {}
    for stage in plan.stages:
        parts = keys.get(stage.name)
        if not stage.config.cache:
            said[stage.name] = "would run (cache = false)"
        elif isinstance(parts, str):
            said[stage.name] = f"would run ({parts})"
        elif parts is not None and lookup and (hit := store.get(parts.digest())) is not None:
            said[stage.name] = f"cached from {hit.entry.run_id}"
        else:
            said[stage.name] = "would run" + ("" if lookup else " (--no-cache)")
    return said


def _some_parts(stage: PlannedStage) -> bool:
    """A shard's parts of a split stage: their pass is not the stage's, nor is the
    stage's pass theirs to reuse (`workflow merge` needs each shard's parts)."""
    return stage.split is not None and len(stage.parts_here) < stage.split.parts


def _not_storable(record: StageRecord) -> str | None:
    if record.status is not StageStatus.PASSED:
        return "only passes are stored"
    if record.parts and len(record.parts) != int(record.parts[0].part.rpartition("/")[2]):
        return "only some of its parts ran here"
    if record.attempts != 1:
        return "only a first attempt's pass is stored"
    if record.tests is not None and record.tests.flaky:
        # Reusing a pass that needed reruns would hide the flaky tests on every later run.
        return "it passed only after rerunning flaky tests"
    return None


def _records() -> tuple[type[StageCache], type[StageRecord]]:
    # The record module costs more start-up than the first stage may wait, and the keys are
    # computed before it starts: it loads here only for a hit, or once a stage has ended
    # (by then the helper thread has loaded it; see pipeline/run.py). The one load point
    # for the record types this module builds.
    from orchestrator.model.records import (  # noqa: PLC0415 - see the comment above
        StageCache,
        StageRecord,
    )

    return StageCache, StageRecord
