"""Gitignore-style globs for `[detect]` and a stage's `inputs`, translated by hand.

The configuration reader compiles every pattern (`pattern_problem`), so a pattern that
cannot be used fails `workflow validate`, never a run part-way.

`fnmatch` lets `*` cross `/` and knows no `**`, so `docs/*` would match `docs/a/b.md` and
`**/*.md` could not be written at all; the rules users know from `.gitignore` are these:

- Paths are relative to the project directory and always use `/`.
- A pattern with no `/`, or with one only at its end, matches at any depth: `*.md`
  matches `README.md` and `a/b/c.md`; `LICENSE*` matches `pkg/LICENSE.txt`.
- A pattern with a `/` at its start or in its middle is anchored to the project
  directory: `docs/*.md` matches `docs/a.md` but not `src/docs/a.md` nor `docs/a/b.md`.
  A leading `/` only anchors (`/setup.py` is the top-level `setup.py`).
- `*` matches any run of characters except `/`; `?` matches one character except `/`;
  `[abc]`, `[a-z]` and `[!abc]` match one character of (or not of) a set, never `/`.
- `**` as a whole path component crosses directories: `**/x` matches `x` at any depth,
  `a/**` matches everything inside `a`, and `a/**/b` matches `a/b`, `a/x/b`, `a/x/y/b`.
  Elsewhere (`a**b`) it is an ordinary `*`.
- A pattern that matches a directory matches every file inside it (`docs` and `docs/` both
  cover `docs/guide/index.md`); a trailing `/` matches directories only.
- `!pattern` excludes again what an earlier pattern matched; the last pattern that matches
  a path decides (`["docs/**", "!docs/conf.py"]`).
- `\\` makes the next character literal (`\\!important.md`, `\\*.md`).
- Matching is case-sensitive, as git is on Linux.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.model.errors import ConfigError

_ANY_DIRS = "(?:[^/]+/)*"  # zero or more whole directories


@dataclass(frozen=True)
class Glob:
    """One compiled pattern: what the user wrote and whether it excludes."""

    text: str
    regex: re.Pattern[str]
    negated: bool


@dataclass(frozen=True)
class GlobSet:
    """An ordered list of patterns where the last one that matches a path decides."""

    key: str  # the configuration key, for messages: "detect.docs"
    globs: tuple[Glob, ...]

    def match(self, path: str) -> str | None:
        """The pattern that selects `path`, or None when none does (or an exclusion wins)."""
        path = normalize_path(path)
        decided: Glob | None = None
        for glob in self.globs:
            if glob.regex.match(path):
                decided = glob
        return None if decided is None or decided.negated else decided.text


def normalize_path(path: str) -> str:
    """A changed path as the patterns see it: no leading `./` or `/`."""
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


class PatternError(ValueError):
    """A pattern that cannot be used; the message is one phrase: '"x" is an empty pattern'."""


def compile_globs(patterns: Iterable[str], key: str) -> GlobSet:
    """Compile a list of patterns; one that cannot be used is a ConfigError naming `key`."""
    return _compile_cached(tuple(patterns), key)


def pattern_problem(text: str) -> str | None:
    """Why `text` cannot be used as a pattern (a phrase), or None when it can."""
    try:
        _compile_one(text)
    except PatternError as exc:
        return str(exc)
    return None


@functools.lru_cache(maxsize=32)
def _compile_cached(patterns: tuple[str, ...], key: str) -> GlobSet:
    try:
        return GlobSet(key=key, globs=tuple(_compile_one(text) for text in patterns))
    except PatternError as exc:
        raise ConfigError(f"{key}: {exc}.") from exc


def _compile_one(text: str) -> Glob:
    negated = text.startswith("!")
    body = text[1:] if negated else text
    dir_only = body.endswith("/") and not body.endswith("\\/")
    body = body.rstrip("/") if dir_only else body
    if not body:
        raise PatternError(f'"{text}" is an empty pattern; remove it')
    anchored = "/" in body
    body = body.lstrip("/")
    prefix = "" if anchored else _ANY_DIRS
    suffix = "/.+" if dir_only else "(?:/.+)?"
    try:
        regex = re.compile(rf"\A{prefix}{_translate(body)}{suffix}\Z", re.DOTALL)
    except re.error as exc:
        raise PatternError(f'"{text}" is not a valid pattern: {exc}') from exc
    return Glob(text=text, regex=regex, negated=negated)


def _translate(body: str) -> str:
    parts = body.split("/")
    out: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            if not last:
                out.append(_ANY_DIRS)  # also swallows the separator that follows
            else:
                out.append(".*" if len(parts) == 1 else ".+")
            continue
        out.append(_translate_component(part))
        if not last:
            out.append("/")
    return "".join(out)


def _translate_component(part: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        i += 1
        if char == "\\" and i < len(part):
            out.append(re.escape(part[i]))
            i += 1
        elif char == "*":
            while i < len(part) and part[i] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            translated, i = _translate_class(part, i)
            out.append(translated)
        else:
            out.append(re.escape(char))
    return "".join(out)


def _translate_class(part: str, start: int) -> tuple[str, int]:
    # `start` is just past "["; a "]" right after "[" or "[!" is a literal member.
    end = start
    if end < len(part) and part[end] in "!^":
        end += 1
    if end < len(part) and part[end] == "]":
        end += 1
    end = part.find("]", end)
    if end == -1:
        return re.escape("["), start
    members = part[start:end].replace("\\", "\\\\")
    if members[:1] in {"!", "^"}:
        members = "^" + members[1:]
    for char in "[&~|":  # escaped: re reads "[", "&&", "~~" and "||" as set operations
        members = members.replace(char, "\\" + char)
    members = members.replace("--", "-\\-")
    return f"(?!/)[{members}]", end + 1
