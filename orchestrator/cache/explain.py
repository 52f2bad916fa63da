"""What changed in a stage's key between the pass that was stored and now.

Pure: two `KeyParts` in, sentences out, one per changed part, naming the files, the
distributions and the variables (never a variable's value: only digests are kept).
"""

from __future__ import annotations

from collections.abc import Mapping

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
    dists_old = {k[5:]: v for k, v in old.items() if k.startswith("dist:")}
    dists_new = {k[5:]: v for k, v in new.items() if k.startswith("dist:")}
    lines = []
    changes = [
        f"{name} {dists_old.get(name, '(none)')} -> {dists_new.get(name, '(none)')}"
        for name in sorted(dists_old.keys() | dists_new.keys())
        if dists_old.get(name) != dists_new.get(name)
    ]
    if changes:
        lines.append(f"distributions changed: {_list(changes)}")
    rest_old = {k: v for k, v in old.items() if not k.startswith("dist:")}
    rest_new = {k: v for k, v in new.items() if not k.startswith("dist:")}
    for name in sorted(rest_old.keys() | rest_new.keys()):
        before, after = rest_old.get(name, "(none)"), rest_new.get(name, "(none)")
        if before != after:
            shown = f"{before} -> {after}" if name in ("tool", "python") else "changed"
            lines.append(f"tool {name}: {shown}")
    return lines


def _named(what: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    names = _changed_names(old, new)
    return [f"{what} changed: {_list(names)}"] if names else []


def _changed_names(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    return sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))


def _list(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    extra = len(names) - MAX_LISTED
    return shown + (f" and {extra} more" if extra > 0 else "")
