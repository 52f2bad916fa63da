"""The stages' cache keys as a run, a dry run, `cache explain` and `cache audit` compute
them: the work tree read once per stage directory, each key, or the sentence that says
why a stage cannot be keyed (it then runs, and its record's `cache.reason` says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from orchestrator.cache.environments import EnvironmentMemo
from orchestrator.cache.filestate import Unkeyable
from orchestrator.cache.key import KeyParts, StageIdentity, stage_key
from orchestrator.cache.remembered import FILE_NAME as REMEMBERED_FILE
from orchestrator.cache.remembered import REMEMBERED
from orchestrator.cache.snapshot import Snapshot, take_snapshot
from orchestrator.cache.store import CacheStore
from orchestrator.configfile.load import LoadedConfig
from orchestrator.gitio import GitError, GitMissing
from orchestrator.model.masking import SECRET_NAME
from orchestrator.model.units import MIB
from orchestrator.model.writes import reason
from orchestrator.pipeline.plan import PlannedStage


def open_store(loaded: LoadedConfig) -> CacheStore | None:
    """The configured cache, or None when `[workflow] cache` is ""."""
    setting = loaded.config.workflow.cache
    if not setting.strip():
        return None
    return CacheStore(loaded.output_path(setting), int(loaded.config.workflow.cache_size_mb * MIB))


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


def current_keys(  # noqa: PLR0913 - two keyword-only options of one reading
    stages: list[StageIdentity],
    environ: Mapping[str, str],
    salt: bytes | None,
    store: CacheStore | None = None,
    *,
    learn: bool = True,
    snapshots: dict[Path, Snapshot | str] | None = None,
) -> dict[str, KeyParts | str]:
    """Each stage's key parts now, or the reason it cannot be cached (a sentence).

    The work tree is read once per distinct stage directory (usually once for the run):
    a stage inside a submodule is read from the submodule's own index. `salt` is the
    store's (`CacheStore.salt`); None when it could not be had: a stage with secret
    values in its `env` is then not cached. With a `store`, the digests of environments'
    files are remembered in it between runs (`cache/remembered.py`), and `learn` False
    (a dry run, `cache explain`) only reads what is remembered. `snapshots` (stage
    directory -> reading) keeps the readings for the caller (the source guard starts
    from them).
    """
    remembered = None if store is None else store.root / REMEMBERED_FILE
    if remembered is not None:
        REMEMBERED.load(remembered)
    try:
        return _keys(stages, environ, salt, {} if snapshots is None else snapshots)
    finally:
        if remembered is not None and learn:
            REMEMBERED.save(remembered)


def _keys(
    stages: list[StageIdentity],
    environ: Mapping[str, str],
    salt: bytes | None,
    snapshots: dict[Path, Snapshot | str],
) -> dict[str, KeyParts | str]:
    memo = EnvironmentMemo()
    keys: dict[str, KeyParts | str] = {}
    for stage in stages:
        if not stage.cwd.is_dir():
            keys[stage.name] = "its cwd does not exist"
            continue
        if stage.cwd not in snapshots:
            snapshots[stage.cwd] = read_work_tree(stage.cwd)
        snapshot = snapshots[stage.cwd]
        if isinstance(snapshot, str):
            keys[stage.name] = snapshot
            continue
        if salt is None and any(SECRET_NAME.search(name) for name in stage.config.env):
            keys[stage.name] = "the cache's salt for its secret env values cannot be read"
            continue
        try:
            keys[stage.name] = stage_key(stage, snapshot, environ, memo, salt or b"")
        except Unkeyable as exc:
            keys[stage.name] = str(exc)
        except OSError as exc:
            keys[stage.name] = f"its inputs could not be read: {reason(exc)}"
    return keys


def read_work_tree(directory: Path) -> Snapshot | str:
    """The work tree's reading, or why there is none (a sentence): the run goes on."""
    try:
        snapshot = take_snapshot(directory)
    except GitMissing:  # nothing can say what the inputs are
        return "git was not found: its inputs cannot be known"
    except GitError as exc:  # git refuses the repository: its own words, and its fix
        return f"{exc.message}; its inputs cannot be known"
    except Unkeyable as exc:
        return str(exc)
    return snapshot or "not in a git work tree: its inputs cannot be known"
