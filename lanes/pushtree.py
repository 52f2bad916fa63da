"""Where each pushed commit is checked: in place, or in a temporary worktree of it.

DESIGN.md "What the pre-push hook checks": the hook vouches for what is pushed. A pushed
commit is checked in place only when it is the checked-out `HEAD` and the work tree holds
nothing else under the stages' inputs (no staged, unstaged or untracked input, no file
git's index flags hide: `assume-unchanged`, `skip-worktree`); otherwise its own tree is
checked out in a temporary worktree. Every distinct pushed commit is checked once, the one
in place first. Plain functions over paths: git is asked elsewhere (`lanes/worktree.py`).

A stage's inputs are its `inputs` patterns under its cwd, or everything git tracks or
would track there; wherever they live, the files tools read their settings from
(`pyproject.toml`, `setup.cfg`, `conftest.py`, ... in the directories above a stage) and
the configuration file itself count too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.model.status import IN_PLACE, WORKTREE
from orchestrator.model.toolconfigs import TOOL_CONFIG_NAMES

if TYPE_CHECKING:
    from orchestrator.model.globs import GlobSet

# Files tools find by walking up from their working directory (`model/toolconfigs.py`): a
# change to one above a stage changes the stage.
TOOL_SETTINGS = TOOL_CONFIG_NAMES
SHOWN = 3  # changed paths named in a reason


class InputScope(NamedTuple):
    """Where one stage's inputs are: its cwd relative to the work tree's top ("" for the
    top itself), and its `inputs` patterns relative to that cwd (None: everything)."""

    cwd: str
    patterns: GlobSet | None = None


class PushedCommit(NamedTuple):
    """A commit the push sends, and the local refs that name it ("refs/heads/topic")."""

    sha: str
    refs: tuple[str, ...]

    @property
    def label(self) -> str:
        """The commit for messages: `1a2b3c4d5e6f (topic, v1.0)`."""
        names = ", ".join(short_ref(ref) for ref in self.refs)
        return f"{self.sha[:12]} ({names})" if names else self.sha[:12]


class Placement(NamedTuple):
    """Where one pushed commit is checked, and why there (a phrase)."""

    commit: PushedCommit
    tree: str  # IN_PLACE or WORKTREE
    why: str

    @property
    def in_place(self) -> bool:
        """Whether the stages run in the checkout the push was made from."""
        return self.tree == IN_PLACE


def short_ref(ref: str) -> str:
    """`refs/heads/topic` -> `topic`, `refs/tags/v1` -> `v1`; anything else unchanged."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def _inside(path: str, directory: str) -> str | None:
    """`path` relative to `directory` (both top-relative, "/"-separated), or None."""
    if not directory:
        return path
    return path[len(directory) + 1 :] if path.startswith(directory + "/") else None


def _settings_above(path: str, scope: InputScope) -> bool:
    """A tool's settings file in the stage's cwd or a directory above it."""
    folder, _, name = path.rpartition("/")
    if name not in TOOL_SETTINGS:
        return False
    return scope.cwd == folder or not folder or scope.cwd.startswith(folder + "/")


def is_input(path: str, scope: InputScope) -> bool:
    """Whether a changed top-relative `path` is one of the stage's inputs."""
    if _settings_above(path, scope):
        return True
    relative = _inside(path, scope.cwd)
    if relative is None:
        return False
    return scope.patterns is None or scope.patterns.match(relative) is not None


def differing_inputs(
    changed: Iterable[str], scopes: Sequence[InputScope], always: Iterable[str] = ()
) -> tuple[str, ...]:
    """The changed paths (top-relative) that some stage reads, sorted.

    `always` are paths that count whatever the scopes (the configuration file).
    """
    fixed = set(always)
    return tuple(
        sorted(
            {
                path
                for path in changed
                if path in fixed or any(is_input(path, scope) for scope in scopes)
            }
        )
    )


def distinct_commits(pushed: Iterable[tuple[str, str]]) -> tuple[PushedCommit, ...]:
    """(commit, local ref) pairs as distinct commits in push order, each with its refs."""
    refs: dict[str, list[str]] = {}
    for sha, ref in pushed:
        names = refs.setdefault(sha, [])
        if ref and ref not in names:
            names.append(ref)
    return tuple(PushedCommit(sha, tuple(names)) for sha, names in refs.items())


def place(
    commits: Sequence[PushedCommit], head: str | None, differing: Sequence[str]
) -> tuple[Placement, ...]:
    """Where each commit is checked: the one that is `head` in place when nothing under
    the inputs differs (it comes first), every other in a temporary worktree."""
    placements: list[Placement] = []
    for commit in commits:
        if commit.sha != head:
            shown = "nothing" if head is None else head[:12]
            why = f"it is not the checked-out commit ({shown})"
            placements.append(Placement(commit, WORKTREE, why))
        elif differing:
            more = f" and {len(differing) - SHOWN} more" if len(differing) > SHOWN else ""
            named = ", ".join(differing[:SHOWN]) + more
            why = f"the work tree differs from it under the stages' inputs ({named})"
            placements.append(Placement(commit, WORKTREE, why))
        else:
            why = "it is the checked-out commit and nothing under the stages' inputs differs"
            placements.append(Placement(commit, IN_PLACE, why))
    return tuple(sorted(placements, key=lambda placement: not placement.in_place))
