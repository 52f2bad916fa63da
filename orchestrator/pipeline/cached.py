"""One run's use of the result cache: look up before the stages start, store after.

Before any stage starts, the work tree is read once (`take_snapshot`) and each cacheable
stage's key computed; a verified entry under that key is a hit: the stage is not run, its
record says `passed` with `cache.hit` and its log is the stored log under one line naming
the run it came from. With `cache_verify`, a drawn share of would-be hits runs anyway:
a pass that now fails is a divergence (its entry is removed, the stage's real result
stands). A stage that ran and passed on its first attempt is stored only when its key,
computed again from a fresh reading of the work tree and the tools after it ended, equals
the key from before it started. Nothing here can fail a run: a cache that cannot be read
is a miss, one that cannot be written is a warning.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.cache.key import KeyParts, StageIdentity
from orchestrator.cache.snapshot import Snapshot
from orchestrator.cache.store import CacheStore, Entry, Hit
from orchestrator.cache.verify import chosen
from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.stageshapes import Measured, spec_of, unrun
from orchestrator.model.filenames import RunDir
from orchestrator.model.partlabel import label_total
from orchestrator.model.status import StageStatus
from orchestrator.model.units import fixed_seconds
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.cachekeys import current_keys, open_store, stage_identity, store_salt
from orchestrator.pipeline.plan import Plan, PlannedStage

if TYPE_CHECKING:
    from orchestrator.model.records import CacheVerify, StageCache, StageRecord

_DIVERGED = frozenset({StageStatus.FAILED, StageStatus.TIMEOUT, StageStatus.ERROR})
REFUSED = "git refuses the repository"  # the start of such a reason (lanes/git.py)


@dataclass
class RunCache:
    """The cache as one run uses it; `lookup` False (`--no-cache`) still stores passes.

    `verify_rate` is the share of would-be hits run anyway (`cache_verify`), drawn by
    `verify_seed` (`cache/verify.py`).
    """

    store: CacheStore
    plan: Plan
    run_id: str
    run_dir: Path
    excluded: tuple[Path, ...]
    warnings: WriteWarnings
    lookup: bool = True
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    verify_rate: float = 0.0
    verify_seed: int = 0
    before: dict[str, KeyParts | str] = field(default_factory=dict)
    results: dict[str, StageCache] = field(default_factory=dict)
    # The work tree as read before the stages (stage directory -> reading): the source
    # guard starts from it instead of reading it again (pipeline/sourceguard.py).
    snapshots: dict[Path, Snapshot | str] = field(default_factory=dict)
    verifying: dict[str, Hit] = field(default_factory=dict)

    def work_tree(self) -> Snapshot | None:
        """The reading of the work tree taken before the stages, if one was."""
        return next((s for s in self.snapshots.values() if isinstance(s, Snapshot)), None)

    # Hears, once per reason, why the cache cannot be used at all (git refuses the
    # repository): a cache that turns off says so when the run starts.
    notice: Callable[[str], None] | None = None

    def _identities(self, names: set[str] | None = None) -> list[StageIdentity]:
        return [
            stage_identity(s, self.excluded)
            for s in self.plan.stages
            if s.config.cache and (names is None or s.name in names)
        ]

    def hits(self) -> dict[str, StageRecord]:
        """Compute every cacheable stage's key; the records of the stages reused (a
        would-be hit drawn for verification runs, and is not among them)."""
        started = time.monotonic()
        identities = self._identities()
        salt = store_salt(self.store, identities)
        self.before = current_keys(
            identities, self.environ, salt, self.store, snapshots=self.snapshots
        )
        refusals = {why for why in self.before.values() if isinstance(why, str)}
        for why in sorted(refusals):
            if self.notice is not None and why.startswith(REFUSED):
                self.notice(f"the result cache is not used: {why}")
        reused: dict[str, StageRecord] = {}
        for stage in self.plan.stages:
            parts = self.before.get(stage.name)
            if not isinstance(parts, KeyParts) or _some_parts(stage):
                continue
            key = parts.digest()
            hit = self.store.get(key) if self.lookup else None
            if hit is None:
                continue
            if self.verify_rate > 0 and chosen(self.verify_seed, stage.name, self.verify_rate):
                self.verifying[stage.name] = hit
                continue
            spent = time.monotonic() - started
            reused[stage.name] = self._reused(stage, hit, spent)
            self.results[stage.name] = _stage_cache()(
                hit=True,
                key=key,
                from_run=hit.entry.run_id,
                saved_s=round(hit.entry.duration_s, 4),
                verified=False if self.verify_rate > 0 else None,
                config_files=parts.configs,
                environments=_environments(parts),
            )
        return reused

    def verification(self) -> CacheVerify | None:
        """The record's `cache_verify` (rate and seed), or None when nothing is checked."""
        if self.verify_rate <= 0:
            return None
        return _cache_verify()(rate=self.verify_rate, seed=self.verify_seed)

    def _reused(self, stage: PlannedStage, hit: Hit, spent: float) -> StageRecord:
        log = RunDir(self.run_dir).log(stage.name)
        took = fixed_seconds(hit.entry.duration_s)
        banner = f"workflow: cached result from run {hit.entry.run_id} (it took {took} there)\n"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_bytes(banner.encode("utf-8") + hit.log)
        except OSError as exc:
            self.warnings.add(f"{stage.name}'s log", log, exc)
        reused = Measured(
            status=StageStatus.PASSED,
            exit_code=0,
            attempts=0,
            duration_s=round(spent, 4),
            log=str(log.relative_to(self.run_dir)),
            executor="cache",
        )
        return unrun(spec_of(stage), reused)

    def after(self, record: StageRecord) -> None:
        """Decide, and store, what the cache keeps of a stage that ran."""
        parts = self.before.get(record.name)
        if parts is None or record.name in self.results:
            return
        if isinstance(parts, str):
            self.results[record.name] = _stage_cache()(
                hit=False, key="", stored=False, reason=parts
            )
            return
        key = parts.digest()
        checked = self.verifying.get(record.name)
        if checked is not None and record.status in _DIVERGED:
            self.results[record.name] = self._diverged(key, checked, parts)
            return
        reason = _not_storable(record)
        if reason is None:
            identities = self._identities({record.name})
            salt = store_salt(self.store, identities)
            now = current_keys(identities, self.environ, salt, self.store).get(record.name)
            if not isinstance(now, KeyParts) or now.digest() != key:
                reason = "its inputs or tools changed while it ran"
        if reason is None:
            reason = self._store(record, parts)
        self.results[record.name] = _stage_cache()(
            hit=False,
            key=key,
            stored=reason is None,
            reason=reason,
            from_run=None if checked is None else checked.entry.run_id,
            verified=None if checked is None else record.status is StageStatus.PASSED,
            diverged=False if checked is not None and record.status.ok else None,
            config_files=parts.configs,
            environments=_environments(parts),
        )

    def _diverged(self, key: str, checked: Hit, parts: KeyParts) -> StageCache:
        """A stored pass that failed when run again: the entry goes, the failure stands."""
        removed = self.store.remove(key)
        where = "" if removed else " (it could not be removed)"
        return _stage_cache()(
            hit=False,
            key=key,
            stored=False,
            from_run=checked.entry.run_id,
            verified=True,
            diverged=True,
            reason=(
                f"its cached pass from run {checked.entry.run_id} did not hold when run "
                f"again (cache_verify): the entry was removed{where}; something it reads "
                "is not in its key (`workflow cache audit` finds what)"
            ),
            config_files=parts.configs,
            environments=_environments(parts),
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


def _environments(parts: KeyParts) -> tuple[str, ...]:
    """The record's `environments`: where the key's environments are, in label order."""
    located = sorted(parts.located.items(), key=lambda item: int(item[0].removeprefix("env")))
    return tuple(path for _, path in located)


def preview(
    loaded: LoadedConfig, plan: Plan, report_dir: Path, *, lookup: bool = True
) -> dict[str, str]:
    """What `run --dry-run` says per stage: "would run" (and why) or "cached from RUN"."""
    store = open_store(loaded)
    if store is None:
        return {s.name: "would run (the cache is off)" for s in plan.stages}
    excluded = loaded.own_outputs(report_dir)
    identities = [stage_identity(s, excluded) for s in plan.stages if s.config.cache]
    salt = store_salt(store, identities, create=False)
    keys = current_keys(identities, os.environ, salt, store, learn=False)
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
    if record.changed_files:
        # Reusing it would skip its writes, and its inputs are no longer what it checked.
        return "it changed files of the project while it ran (writes = true)"
    if record.parts and len(record.parts) != label_total(record.parts[0].part):
        return "only some of its parts ran here"
    if record.attempts != 1:
        return (
            f"it needed a rerun (passed on attempt {record.attempts}); "
            "only a first attempt's pass is stored"
        )
    if record.tests is not None and record.tests.flaky:
        # Reusing a pass that needed reruns would hide the flaky tests on every later run.
        return "it passed only after rerunning flaky tests"
    return None


# The record module costs more start-up than the first stage may wait, and the keys are
# computed before it starts: it loads in these two only for a hit, or once a stage has
# ended (by then the helper thread has loaded it; see pipeline/run.py).


def _stage_cache() -> type[StageCache]:
    from orchestrator.model.records import StageCache  # noqa: PLC0415 - see above

    return StageCache


def _cache_verify() -> type[CacheVerify]:
    from orchestrator.model.records import CacheVerify  # noqa: PLC0415 - see above

    return CacheVerify
