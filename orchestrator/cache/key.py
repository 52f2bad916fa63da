"""A stage's cache key: its parts (what `cache explain` compares) and their one digest.

The parts are plain text, so the key of a stage in a fresh clone, on another machine with
the same tools, or after a `touch` of every file is the same, and anything that can change
what the stage does changes it (DESIGN "Result cache"): its table, its input files (with
the configuration tools find by themselves, `cache/configs.py`), its `cache_env` values,
its tool, and every Python environment it can reach (`cache/pathenvs.py`). Values of
`cache_env` variables enter as digests (the configuration refuses secret-named ones
there). A secret-named value in the stage's `env` enters as an HMAC under the cache's own
random salt (`CacheStore.salt`, never exported): without the salt a stored digest cannot
be tried against guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from orchestrator.cache.configs import CONFIG_NAMES, ancestor_configs, config_states, user_configs
from orchestrator.cache.environments import EnvironmentMemo, environment_fingerprint
from orchestrator.cache.filestate import Unkeyable
from orchestrator.cache.fingerprint import (
    Tool,
    resolve_tool,
    stage_variables,
    tool_fingerprint,
)
from orchestrator.cache.inputs import named_paths, select_inputs
from orchestrator.cache.pathenvs import environment_of, path_environments, tool_environments
from orchestrator.cache.snapshot import Snapshot
from orchestrator.model.config import StageConfig
from orchestrator.model.masking import SECRET_NAME
from orchestrator.model.plain import to_data

CACHE_FORMAT = 2  # bump when what a key covers changes: every old entry becomes a miss
UNSET = "(unset)"


@dataclass(frozen=True)
class KeyParts:
    """Everything a stage's result depends on, each part as "name -> text".

    `stage`: each key of the stage table (and its cwd relative to the work tree) -> a
    digest of its value; `inputs`: top-relative path (`../x` above the top, `~/x` in the
    home directory) -> "mode blob"; `env`: variable -> digest of its value or "(unset)";
    `tool`: see `tool_fingerprint`, with "environment" naming its environment's label;
    `environments`: "LABEL PART" -> text for every Python environment the stage can reach
    (labels "env1", "env2", ... in the order its PATH finds them; parts as
    `environment_fingerprint` gives them). `configs` (the configuration files among the
    inputs) and `located` (label -> the environment's directory here) say where things
    are, for the record and `cache explain`: they are not part of the key.
    """

    stage: Mapping[str, str]
    inputs: Mapping[str, str]
    env: Mapping[str, str]
    tool: Mapping[str, str]
    environments: Mapping[str, str] = field(default_factory=dict)
    format: int = CACHE_FORMAT
    configs: tuple[str, ...] = field(default=(), compare=False)
    located: Mapping[str, str] = field(default_factory=dict, compare=False)
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


_SECTIONS = ("stage", "inputs", "env", "tool", "environments")


def parts_from_data(data: Any) -> KeyParts:
    """KeyParts read back from a stored entry; ValueError when the shape is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise ValueError("not a cache key")
    sections: dict[str, dict[str, str]] = {}
    for name in _SECTIONS:
        section = data.get(name, {} if name == "environments" else None)  # format 1 had none
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
    return KeyParts(
        stage=sections["stage"],
        inputs=sections["inputs"],
        env=sections["env"],
        tool=sections["tool"],
        environments=sections["environments"],
        format=data["format"],
        selection=selection,
    )


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
    memo: EnvironmentMemo,
    salt: bytes,
) -> KeyParts:
    """The key parts of `stage` on the work tree `snapshot` read, in environment `environ`.

    `salt` keys the stage's secret-named `env` values (HMAC-SHA256). Raises ConfigError
    when `inputs` holds a pattern that cannot be used.
    """
    cwd = _relative(stage.cwd, snapshot.top)
    if cwd is None:
        raise Unkeyable("its cwd is outside the git work tree: its inputs cannot be known")
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
    inputs, configs = stage_inputs(stage, snapshot, cwd, environ, memo)
    tool, environments, located = _tool_and_environments(stage, snapshot.top, environ, memo)
    return KeyParts(
        stage=stage_parts,
        inputs=inputs,
        env=env,
        tool=tool,
        environments=environments,
        configs=configs,
        located=located,
        selection={"mode": stage.selection} if stage.selection else {},
    )


def stage_inputs(
    stage: StageIdentity,
    snapshot: Snapshot,
    cwd: str,
    environ: Mapping[str, str],
    memo: EnvironmentMemo,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """path -> state of every input of the stage (`cache/inputs.py`), with the
    configuration files tools find by themselves above it and in the user's home
    (`cache/configs.py`); and the configuration files' paths among them."""
    excluded = [p for p in (_relative(e, snapshot.top) for e in stage.excluded) if p]
    label = f"stages.{stage.name}.inputs"
    chosen = select_inputs(snapshot, cwd, stage.config.inputs, excluded, label)
    if stage.config.run is not None:
        chosen.update(named_paths(stage.config.run, stage.cwd, snapshot, chosen))
    if stage.cwd not in memo.configs:
        memo.configs[stage.cwd] = ancestor_configs(stage.cwd, snapshot.top)
    found = {**memo.configs[stage.cwd], **user_configs(environ)}
    for path, state in config_states(found).items():
        chosen.setdefault(path, state)
    named = (p for p in chosen if p.rpartition("/")[2] in CONFIG_NAMES - {"__init__.py"})
    configs = {*found, *named}  # every `__init__.py` is keyed, but not listed as one
    return chosen, tuple(sorted(configs))


def key_inputs(
    stage: StageIdentity, snapshot: Snapshot, environ: Mapping[str, str], memo: EnvironmentMemo
) -> dict[str, str]:
    """path -> state of every input the stage's key holds (`stage_inputs`), for what must
    see the same files as the key (test selection's facts). Raises Unkeyable when the
    stage's cwd is outside the work tree, ConfigError for an unusable `inputs` pattern."""
    cwd = _relative(stage.cwd, snapshot.top)
    if cwd is None:
        raise Unkeyable("its cwd is outside the git work tree: its inputs cannot be known")
    return stage_inputs(stage, snapshot, cwd, environ, memo)[0]


def key_environments(
    stage: StageIdentity, top: Path, environ: Mapping[str, str], memo: EnvironmentMemo
) -> dict[str, str]:
    """The stage's tool and every Python environment it can reach, as its key holds them
    (the tool's own name left out): what a distribution upgraded anywhere on its PATH
    changes."""
    tool, environments, _ = _tool_and_environments(stage, top, environ, memo)
    tool.pop("tool", None)
    return {**tool, **environments}


def _tool_and_environments(
    stage: StageIdentity, top: Path, environ: Mapping[str, str], memo: EnvironmentMemo
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The tool's parts, every reachable environment's parts under its label, and where
    each labelled environment is."""
    reach = stage_variables(stage.config.env, environ)
    path = reach.get("PATH", "")
    run = stage.config.run
    if run is None:  # a callable stage runs in workflow's own interpreter
        tool = Tool({"tool": f"call {stage.config.call}"}, environment_of(Path(sys.executable)))
    else:
        tool = tool_fingerprint(resolve_tool(run[0], stage.cwd, path), run[0], memo)
    beside = [*tool_environments(stage.cwd, top), *([tool.environment] if tool.environment else [])]
    roots = path_environments(path, stage.cwd, reach, beside)
    parts = dict(tool.parts)
    environments: dict[str, str] = {}
    located: dict[str, str] = {}
    for number, root in enumerate(roots, start=1):
        label = f"env{number}"
        located[label] = str(root)
        if tool.environment is not None and root.resolve() == tool.environment.resolve():
            parts["environment"] = label
        for name, value in environment_fingerprint(root, memo).items():
            environments[f"{label} {name}"] = value
    return parts, environments, located


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
