"""Where the changes come from, before git is asked: ranges of commits, or why none."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BaseKind(StrEnum):
    """How a range names its base."""

    REF = "ref"  # `base` is a ref or a commit
    DEFAULT_BRANCH = "default branch"  # the default branch of the remote named by `base`
    UPSTREAM = "upstream"  # the current branch's upstream, then origin/HEAD


@dataclass(frozen=True)
class RangeRequest:
    """Compare `head` with `base` through their merge base."""

    head: str | None  # None: the work tree, uncommitted and untracked files included
    base: str = ""
    kind: BaseKind = BaseKind.REF
    what: str = "the base"  # names the base in messages: "the push's before commit"
    hint: str = ""  # why the base may be missing: "after a force push"
    label: str = ""  # names this range among several: "refs/heads/topic"


@dataclass(frozen=True)
class ChangeRequest:
    """The ranges to read from git, or the reason no range can say what changed."""

    source: str  # a phrase: "--base main", "the push to origin", "the pull request into main"
    ranges: tuple[RangeRequest, ...] = ()
    undetermined: str | None = None  # set: HEAVY for this reason, git is not asked
    notes: tuple[str, ...] = ()  # e.g. "refs/heads/old is deleted: nothing to check there"
