"""What changed in a stage's key between the pass that was stored and now, and what the
key holds.

Pure: `KeyParts` in, sentences out, one per changed part, naming the files, the
distributions and the variables (never a variable's value: only digests are kept).
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.cache.fingerprint import MISSING, PYTHON_TOOL
from orchestrator.cache.key import KeyParts

MAX_LISTED = 20  # names per sentence; the rest are counted


def explain(old: KeyParts, new: KeyParts) -> list[str]:
    """One line per difference; empty when the two keys are the same."""
    lines: list[str] = []
    if old.format != new.format:
        lines.append(f"cache format: {old.format} -> {new.format}")
    lines += _files(old.inputs, new.inputs)
    lines += _named("stage table", old.stage, new.stage)
    lines += _named("variables", old.env, new.env)
    lines += _named("test selection", old.selection, new.selection)
    lines += _tool(old.tool, new.tool)
    lines += _environments(old.environments, new.environments, new.located)
    return lines


def keyed_by(parts: KeyParts) -> list[str]:
    """What the key holds, in a few lines: the tool and how it is known, the Python
    environments, the configuration files, how many input files."""
    tool = parts.tool
    name = tool.get("tool", "?")
    label = tool.get("environment")
    if name.startswith("call "):
        lines = [f"tool: {name}, keyed by workflow's own environment ({label})"]
    elif tool.get("kind") == PYTHON_TOOL and label:
        lines = [f"tool: {name}, a Python tool, keyed by its environment {label}"]
    elif tool.get("kind") == MISSING:
        lines = [f"tool: {name} was not found (keyed as missing)"]
    else:
        lines = [
            f"tool: {name}, not a Python tool: keyed by its content; what it starts (a "
            "wrapper's tools) is keyed by the Python environments it can reach"
        ]
    envs = _by_label(parts.environments)
    for env_label, values in sorted(envs.items(), key=lambda item: _number(item[0])):
        where = parts.located.get(env_label, "?")
        count = sum(1 for key in values if key.startswith("dist:"))
        python = values.get("python", "unknown").split(" ")[0]
        lines.append(f"environment {env_label}: {where} (Python {python}, {count} distributions)")
    if parts.configs:
        lines.append(f"configuration files: {_list(list(parts.configs))}")
    lines.append(f"input files: {len(parts.inputs)}")
    return lines


def _files(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    edited = sorted(p for p in old.keys() & new.keys() if old[p] != new[p])
    lines = []
    if edited:
        modes = [p for p in edited if old[p].split()[0] != new[p].split()[0]]
        lines.append(f"input files changed: {_list(edited)}")
        if modes:
            lines.append(f"file mode or type changed: {_list(modes)}")
    if added:
        lines.append(f"input files added: {_list(added)}")
    if removed:
        lines.append(f"input files removed: {_list(removed)}")
    return lines


def _tool(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name, "(none)"), new.get(name, "(none)")
        if before != after:
            shown = f"{before} -> {after}" if name in ("tool", "kind", "environment") else "changed"
            lines.append(f"tool {name}: {shown}")
    return lines


def _environments(
    old: Mapping[str, str], new: Mapping[str, str], located: Mapping[str, str]
) -> list[str]:
    before, after = _by_label(old), _by_label(new)
    lines = []
    for label in sorted(before.keys() | after.keys(), key=_number):
        where = f"environment {label} ({located[label]})" if label in located else label
        if label not in before:
            lines.append(f"{where}: now reachable on its PATH")
        elif label not in after:
            lines.append(f"environment {label}: no longer reachable on its PATH")
        else:
            lines += [f"{where}: {line}" for line in _environment(before[label], after[label])]
    return lines


def _environment(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    lines = []
    for part in ("python", "interpreter"):
        if old.get(part) != new.get(part):
            shown = f"{old.get(part)} -> {new.get(part)}" if part == "python" else "changed"
            lines.append(f"{part} {shown}")
    dists_old, dists_new = _prefixed(old, "dist:"), _prefixed(new, "dist:")
    changes = [
        f"{name} {dists_old.get(name, '(none)')} -> {dists_new.get(name, '(none)')}"
        for name in sorted(dists_old.keys() | dists_new.keys())
        if dists_old.get(name) != dists_new.get(name)
    ]
    if changes:
        lines.append(f"distributions changed: {_list(changes)}")
    files_old, files_new = _prefixed(old, "files:"), _prefixed(new, "files:")
    rebuilt = [
        f"{name} {dists_new[name]}"
        for name in sorted(files_old.keys() & files_new.keys())
        if files_old[name] != files_new[name]
        and dists_old.get(name) == dists_new.get(name)
        and name in dists_new
    ]
    if rebuilt:
        lines.append(f"reinstalled in place with other files: {_list(rebuilt)}")
    programs = _changed_names(_prefixed(old, "bin:"), _prefixed(new, "bin:"))
    if programs:
        lines.append(f"programs changed: {_list(programs)}")
    pth = _changed_names(_prefixed(old, "pth:"), _prefixed(new, "pth:"))
    if pth:
        lines.append(f".pth files added or removed: {_list(pth)}")
    return lines


def _by_label(section: Mapping[str, str]) -> dict[str, dict[str, str]]:
    grouped: dict[str, dict[str, str]] = {}
    for key, value in section.items():
        label, _, part = key.partition(" ")
        grouped.setdefault(label, {})[part] = value
    return grouped


def _number(label: str) -> int:
    digits = label.removeprefix("env")
    return int(digits) if digits.isdigit() else 0


def _prefixed(values: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}


def _named(what: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    names = _changed_names(old, new)
    return [f"{what} changed: {_list(names)}"] if names else []


def _changed_names(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    return sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))


def _list(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    extra = len(names) - MAX_LISTED
    return shown + (f" and {extra} more" if extra > 0 else "")
