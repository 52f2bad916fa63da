"""The work tree's content: git's word where it holds, the disk where it does not.

A clean tracked file is named by its index entry (mode and blob id: git already hashed
it). Everything else is hashed here from the disk, the way git would hash it, so an edit
that is undone gives the same state as before and modification times never count: files
that are dirty or untracked, and tracked files whose index entry does not say what the
disk holds: entries git is told not to check (`skip-worktree`, `assume-unchanged`, the
files outside a sparse checkout) and files whose content a `.gitattributes` filter,
`ident` or `working-tree-encoding` changes between the index and the disk. Submodules are
compared whatever their `ignore` setting says; a submodule with changes of its own, or a
repository git does not track, cannot be read cheaply: `Unkeyable`, the stage runs.
Ignored files are listed (one by one, never inside an ignored directory) for the few
that tools read anyway; they are not inputs by default.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cache.filestate import MODE_GITLINK, Unkeyable, file_state
from orchestrator.gitio import GitError, repository_problem, run_git, run_git_all
from orchestrator.model.ownpaths import top_environments

# The status every key reads: submodules compared whatever `.gitmodules` says, stat data
# checked in full whatever the user's configuration relaxes, no file-system monitor's
# word, no index lock (concurrent runs and the user's own git commands never collide).
_STATUS = (
    *("-c", "core.fileMode=true", "-c", "core.checkStat=default", "-c", "core.trustctime=true"),
    *("-c", "core.fsmonitor=false", "--no-optional-locks", "status", "--porcelain=v1", "-z"),
    *("--untracked-files=all", "--no-renames", "--ignore-submodules=none", "--ignored=matching"),
)
_CONVERTING = ("filter", "ident", "working-tree-encoding")  # attributes that rewrite content


@dataclass
class Snapshot:
    """One reading of a git work tree.

    `tracked` maps top-relative paths (with `/`) to "mode blob" from the index; `dirty`
    are tracked paths whose work-tree state may differ (git status lists them);
    `from_disk` tracked paths whose index entry is not the disk's word; `untracked` files
    git would track (not ignored); `ignored` files git ignores, listed one by one.
    """

    top: Path
    tracked: Mapping[str, str]
    dirty: frozenset[str]
    untracked: frozenset[str]
    # Untracked nested repositories ("sub/"): their content is not read here.
    opaque: frozenset[str] = frozenset()
    from_disk: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()
    _hashed: dict[str, str | None] = field(default_factory=dict)

    def paths(self) -> Iterable[str]:
        """Every candidate input path: tracked or untracked, present or not."""
        yield from self.tracked
        yield from self.untracked
        yield from self.opaque

    def state(self, path: str) -> str | None:
        """The "mode blob" of the file at `path` now, or None when there is no file there.

        Raises Unkeyable for what cannot be read cheaply and exactly (a submodule with
        changes of its own, a nested repository git does not track).
        """
        if path in self.opaque:
            raise Unkeyable(
                f"{path} is a git repository that the work tree does not track: "
                "its content is not read"
            )
        entry = self.tracked.get(path)
        if entry is not None and entry.startswith(MODE_GITLINK):
            return self._gitlink(path, entry)
        if entry is not None and path not in self.dirty and path not in self.from_disk:
            return entry
        if path not in self._hashed:
            self._hashed[path] = file_state(self.top / path)
        return self._hashed[path]

    def _gitlink(self, path: str, entry: str) -> str:
        """A submodule: its recorded commit when it is checked out clean at that commit,
        and the disk's content of its own files that its index is told not to check."""
        if path in self._hashed:
            return self._hashed[path] or entry
        if path in self.dirty:
            raise Unkeyable(
                f"{path} is a submodule with changes of its own (or at another commit than "
                "the one recorded): its content is not read"
            )
        checkout = self.top / path
        if not (checkout / ".git").exists():
            state = f"{entry} (not checked out)"
        else:
            inner = take_snapshot(checkout)
            if inner is None or inner.top.resolve() != checkout.resolve():
                raise Unkeyable(f"{path} is a submodule git cannot read")
            hidden = sorted(f"{p} {inner.state(p)}" for p in inner.from_disk)
            digest = hashlib.sha256("\n".join(hidden).encode("utf-8")).hexdigest()[:16]
            state = f"{entry} {digest}" if hidden else entry
        self._hashed[path] = state
        return state


def take_snapshot(directory: Path) -> Snapshot | None:
    """The work tree containing `directory`, or None when it is not in one (or git fails).

    Three git processes side by side, from `directory` itself: the top and common
    directories, the whole index with its flags (`ls-files -s -v` of `:/`) and the
    status (whose porcelain paths are always the top's); a fourth, `check-attr`, only
    when attributes can apply. Raises GitError when git refuses the repository (its
    message quoted: "detected dubious ownership"), or is not installed.
    """
    guess = _guess_top(directory)
    venvs = top_environments(guess) if guess is not None else ()
    found, index, status = run_git_all(
        directory,
        ("rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir"),
        ("ls-files", "-s", "-v", "-z", "--full-name", "--", ":/"),
        (*_STATUS, *_excluding(venvs)),
    )
    problem = repository_problem(found)
    if problem is not None:
        raise GitError(problem)
    lines = found.stdout.splitlines()
    if found.returncode != 0 or len(lines) < 2 or not lines[0].strip():
        return None
    top, common = Path(lines[0].strip()), Path(lines[1].strip())
    if index.returncode != 0:
        return None
    tracked, conflicted, flagged = _index_entries(index.stdout)
    if venvs and (guess is None or guess.resolve() != top.resolve() or _holds(tracked, venvs)):
        # The guess excluded another tree's directories, or files git tracks: read again.
        status = run_git(directory, *_STATUS)
    if status.returncode != 0:
        return None
    dirty, untracked, ignored = _status_entries(status.stdout)
    sources = _attribute_sources(set(tracked) | untracked, common)
    converted = _converted(top, tracked) if sources else set()
    return Snapshot(
        top=top,
        tracked=tracked,
        dirty=frozenset(dirty | conflicted),
        untracked=frozenset(p for p in untracked if not p.endswith("/")),
        opaque=frozenset(p.rstrip("/") for p in untracked if p.endswith("/")),
        from_disk=frozenset(flagged | converted),
        ignored=frozenset(ignored),
    )


def _index_entries(text: str) -> tuple[dict[str, str], set[str], set[str]]:
    """path -> "mode blob", the conflicted paths, and the paths flagged not to be checked
    (a lower-case tag: assume-unchanged; "S": skip-worktree, as a sparse checkout sets)."""
    tracked: dict[str, str] = {}
    conflicted: set[str] = set()
    flagged: set[str] = set()
    for entry in text.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        tag, mode, blob, stage_number = meta.split(" ")
        if stage_number != "0":
            conflicted.add(path)
        if tag == "S" or tag.islower():
            flagged.add(path)
        tracked[path] = f"{mode} {blob}"
    return tracked, conflicted, flagged


def _status_entries(text: str) -> tuple[set[str], set[str], set[str]]:
    dirty: set[str] = set()
    untracked: set[str] = set()
    ignored: set[str] = set()
    for entry in text.split("\0"):
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.add(path)  # "sub/" is an untracked nested repository
        elif code == "!!":
            if not path.endswith("/"):  # an ignored directory's files are never listed
                ignored.add(path)
        else:
            dirty.add(path)
    return dirty, untracked, ignored


def status_codes(top: Path, *exclude: str) -> dict[str, str] | None:
    """path -> porcelain code ("??" untracked, " M", " D", ...) of every file `git status`
    lists under the work tree `top` (every untracked file, not directories), or None when
    git fails. `exclude` are top-relative directories git need not walk (virtualenvs).
    """
    pathspec = ["--", ".", *(f":(exclude){path}" for path in exclude)] if exclude else []
    status = run_git(
        top,
        *("-c", "core.fileMode=true", "--no-optional-locks", "status", "--porcelain=v1"),
        *("-z", "--untracked-files=all", "--no-renames", *pathspec),
    )
    if status.returncode != 0:
        return None
    return {entry[3:]: entry[:2] for entry in status.stdout.split("\0") if len(entry) >= 4}


def _guess_top(directory: Path) -> Path | None:
    """The work tree's top as a `.git` entry places it (git's answer comes with the
    status, so its exclusions are guessed first and checked after)."""
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _holds(tracked: Mapping[str, str], directories: tuple[str, ...]) -> bool:
    prefixes = tuple(f"{directory}/" for directory in directories)
    return any(path.startswith(prefixes) for path in tracked)


def _excluding(venvs: tuple[str, ...]) -> tuple[str, ...]:
    """The pathspec of the whole tree but its top-level virtualenvs: keyed as
    environments (`cache/pathenvs.py`), never file by file, git need not walk them."""
    if not venvs:
        return ()
    return ("--", ":/", *(f":(top,exclude){venv}" for venv in venvs))


def _attribute_sources(paths: set[str], common: Path) -> bool:
    """Whether any attributes can apply: a `.gitattributes` in the tree, the repository's
    `info/attributes`, the user's global attributes file, or a configuration that may
    name one (`core.attributesFile`, or an `include` that could): read here, not asked
    of git, which would cost every key another process."""
    if any(p == ".gitattributes" or p.endswith("/.gitattributes") for p in paths):
        return True
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    if (common / "info" / "attributes").is_file() or (config_home / "git/attributes").is_file():
        return True
    if os.environ.get("GIT_CONFIG_PARAMETERS") or os.environ.get("GIT_CONFIG_COUNT"):
        return True
    configs = [common / "config", Path.home() / ".gitconfig", config_home / "git/config"]
    configs += [Path(os.environ.get("GIT_CONFIG_GLOBAL", "/dev/null"))]
    if not os.environ.get("GIT_CONFIG_NOSYSTEM"):
        configs.append(Path(os.environ.get("GIT_CONFIG_SYSTEM", "/etc/gitconfig")))
    return any(_may_name_attributes(path) for path in configs)


def _may_name_attributes(config: Path) -> bool:
    try:
        text = config.read_text(encoding="utf-8", errors="replace").lower()
    except OSError:
        return False
    return "attributesfile" in text or "[include" in text


def _converted(top: Path, tracked: Mapping[str, str]) -> set[str]:
    """Tracked paths whose content a filter, `ident` or an encoding rewrites on checkout:
    the index holds the cleaned content, the disk (what tools read) another."""
    listed = "\0".join(p for p, e in tracked.items() if not e.startswith(MODE_GITLINK))
    done = run_git(
        top, "check-attr", "-z", "--stdin", *_CONVERTING, stdin_data=listed.encode("utf-8")
    )
    if done.returncode != 0:
        raise Unkeyable(f"git check-attr failed: {done.stderr or done.returncode}")
    fields = done.stdout.split("\0")
    return {
        fields[i]
        for i in range(0, len(fields) - 2, 3)
        if fields[i + 2] not in ("unspecified", "unset")
    }
