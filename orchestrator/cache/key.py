"""A stage's cache key: its parts (what `cache explain` compares) and their one digest.

The parts are plain text, so the key of a stage in a fresh clone, on another machine with
the same tools, or after a `touch` of every file is the same, and anything that can change
what the stage does changes it (DESIGN "Result cache"). Values of `cache_env` variables
enter as digests (the configuration refuses secret-named ones there). A secret-named value
in the stage's `env` enters as an HMAC under the cache's own random salt (`CacheStore.salt`,
never exported): without the salt a stored digest cannot be tried against guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from orchestrator.cache.fingerprint import (
    FingerprintMemo,
    environment_fingerprint,
    python_environment,
    resolve_tool,
    search_path,
    tool_fingerprint,
)
from orchestrator.cache.snapshot import Snapshot
from orchestrator.model.config import StageConfig
from orchestrator.model.masking import SECRET_NAME
from orchestrator.model.ownpaths import own_output_of
from orchestrator.model.plain import to_data

if TYPE_CHECKING:
    from orchestrator.model.globs import GlobSet

CACHE_FORMAT = 1  # bump when what a key covers changes: every old entry becomes a miss
UNSET = "(unset)"


@dataclass(frozen=True)
class KeyParts:
    """Everything a stage's result depends on, each part as "name -> text".

    `stage`: each key of the stage table (and its cwd relative to the work tree) -> a
    digest of its value; `inputs`: top-relative path -> "mode blob"; `env`: variable ->
    digest of its value or "(unset)"; `tool`: see `tool_fingerprint`.
    """

    stage: Mapping[str, str]
    inputs: Mapping[str, str]
    env: Mapping[str, str]
    tool: Mapping[str, str]
    format: int = CACHE_FORMAT
    # Test selection: {"mode": "affected"} when only the tests a change can affect run, so
    # such a pass is never reused by a run that asks for every test. Empty (and left out
    # of the key's data) otherwise: keys of stages without selection are unchanged.
    selection: Mapping[str, str] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        """JSON-ready form, sorted, as stored beside a cached result."""
        data = {
            "format": self.format,
            **{name: dict(sorted(getattr(self, name).items())) for name in _SECTIONS},
        }
        if self.selection:
            data["selection"] = dict(sorted(self.selection.items()))
        return data

    def digest(self) -> str:
        """The key: SHA-256 (hex) of the canonical JSON of every part."""
        text = json.dumps(self.to_data(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SECTIONS = ("stage", "inputs", "env", "tool")


def parts_from_data(data: Any) -> KeyParts:
    """KeyParts read back from a stored entry; ValueError when the shape is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise ValueError("not a cache key")
    sections: dict[str, dict[str, str]] = {}
    for name in _SECTIONS:
        section = data.get(name)
        if not isinstance(section, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in section.items()
        ):
            raise ValueError(f"cache key part {name!r} is not a table of strings")
        sections[name] = section
    selection = data.get("selection", {})
    if not isinstance(selection, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selection.items()
    ):
        raise ValueError("cache key part 'selection' is not a table of strings")
    return KeyParts(format=data["format"], selection=selection, **sections)


@dataclass(frozen=True)
class StageIdentity:
    """A stage as the key sees it: its table, where it runs, what it must not read."""

    name: str
    config: StageConfig
    cwd: Path  # absolute
    excluded: tuple[Path, ...] = ()  # LoadedConfig.own_outputs: reports, history, cache
    selection: str = ""  # "affected" when the run selects the stage's tests


def stage_key(
    stage: StageIdentity,
    snapshot: Snapshot,
    environ: Mapping[str, str],
    memo: FingerprintMemo,
    salt: bytes,
) -> KeyParts:
    """The key parts of `stage` on the work tree `snapshot` read, in environment `environ`.

    `salt` keys the stage's secret-named `env` values (HMAC-SHA256). Raises ConfigError
    when `inputs` holds a pattern that cannot be used.
    """
    cwd = _relative(stage.cwd, snapshot.top)
    table = {f.name: to_data(getattr(stage.config, f.name)) for f in fields(stage.config)}
    table["env"] = {
        name: _keyed(value, salt) if SECRET_NAME.search(name) else value
        for name, value in stage.config.env.items()
    }
    stage_parts = {name: _digest(value) for name, value in table.items()}
    stage_parts["cwd (in the work tree)"] = _digest(cwd)
    env = {
        name: _digest(environ[name]) if name in environ else UNSET
        for name in stage.config.cache_env
    }
    return KeyParts(
        stage=stage_parts,
        inputs=select_inputs(stage, snapshot, cwd),
        env=env,
        tool=_tool(stage, environ, memo),
        selection={"mode": stage.selection} if stage.selection else {},
    )


def select_inputs(stage: StageIdentity, snapshot: Snapshot, cwd: str | None) -> dict[str, str]:
    """path -> state of every input of the stage that exists now.

    The default is every file git tracks or would track under the stage's cwd; `inputs`
    patterns (gitignore-style, relative to the cwd) narrow that. A stage whose cwd is
    outside the work tree has no inputs git can see: the caller does not cache it.
    """
    if cwd is None:
        return {}
    prefix = "" if cwd == "." else cwd + "/"
    excluded = [p for p in (_relative(e, snapshot.top) for e in stage.excluded) if p]
    patterns = stage.config.inputs
    globs = None if patterns is None else _compile_inputs(patterns, stage.name)
    chosen: dict[str, str] = {}
    for path in snapshot.paths():
        if not path.startswith(prefix) or own_output_of(path, excluded) is not None:
            continue
        if globs is not None and globs.match(path[len(prefix) :]) is None:
            continue
        state = snapshot.state(path)
        if state is not None:
            chosen[path] = state
    return chosen


def _tool(
    stage: StageIdentity, environ: Mapping[str, str], memo: FingerprintMemo
) -> dict[str, str]:
    run = stage.config.run
    if run is None:  # a callable stage runs in workflow's own interpreter
        root = python_environment(Path(sys.executable))
        parts = {"tool": f"call {stage.config.call}"}
        if root is not None:
            parts.update(environment_fingerprint(root, memo))
        return parts
    path = search_path(stage.config.env, environ)
    return tool_fingerprint(resolve_tool(run[0], stage.cwd, path), run[0], memo)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):  # the stage's `env` is a read-only mapping
        return dict(value)
    raise TypeError(f"cannot put {type(value).__name__} into a cache key")


def _relative(path: Path, top: Path) -> str | None:
    try:
        relative = path.resolve().relative_to(top.resolve())
    except ValueError:
        return None
    text = PurePosixPath(relative).as_posix()
    return text or "."


def _keyed(value: str, salt: bytes) -> str:
    return "hmac " + hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _compile_inputs(patterns: tuple[str, ...], stage: str) -> GlobSet:
    # The glob matcher loads only for a stage with `inputs`: the keys are computed before
    # the first stage starts, and most stages have none. This module's one deferred import.
    from orchestrator.model.globs import compile_globs  # noqa: PLC0415 - see the comment above

    return compile_globs(patterns, f"stages.{stage}.inputs")
