"""Gitignore-style globs: the documented semantics, case by case and as properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.errors import ConfigError
from orchestrator.model.globs import compile_globs, normalize_path

CASES = [
    # no slash: any depth
    ("*.md", "README.md", True),
    ("*.md", "a/b/c.md", True),
    ("*.md", "README.mdx", False),
    ("LICENSE*", "LICENSE", True),
    ("LICENSE*", "pkg/LICENSE.txt", True),
    ("pyproject.toml", "sub/pyproject.toml", True),
    ("pyproject.toml", "pyproject.toml.bak", False),
    # a slash at the start or in the middle anchors
    ("docs/*.md", "docs/a.md", True),
    ("docs/*.md", "src/docs/a.md", False),
    ("docs/*.md", "docs/a/b.md", False),
    ("/setup.py", "setup.py", True),
    ("/setup.py", "pkg/setup.py", False),
    # `*` and `?` stay inside one component
    ("src/*.py", "src/a/b.py", False),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    # `**`
    ("**/*.md", "README.md", True),
    ("**/*.md", "a/b/c.md", True),
    ("docs/**", "docs/a.md", True),
    ("docs/**", "docs/a/b/c.txt", True),
    ("docs/**", "docs", False),
    ("docs/**", "src/docs/a.md", False),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/xb", False),
    ("**", "anything/at/all", True),
    ("a**b", "axxb", True),
    ("a**b", "ax/xb", False),
    # a matched directory covers what is inside; a trailing slash means directories only
    ("docs", "docs/guide/index.md", True),
    ("docs", "src/docs/x.py", True),
    ("docs/", "docs/a.md", True),
    ("docs/", "docs", False),
    ("build/out/", "build/out/x", True),
    # character classes never match "/"
    ("file[0-9].txt", "file7.txt", True),
    ("file[!0-9].txt", "file7.txt", False),
    ("file[!0-9].txt", "fileA.txt", True),
    ("a[/]b", "a/b", False),
    ("[]x].md", "].md", True),
    ("[ab", "[ab", True),
    ("x[&&]y", "x&y", True),
    # escapes
    ("\\*.md", "*.md", True),
    ("\\*.md", "a.md", False),
    ("\\!keep.md", "!keep.md", True),
    # case-sensitive, like git on Linux
    ("*.MD", "readme.md", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_documented_semantics(pattern: str, path: str, expected: bool) -> None:
    globs = compile_globs([pattern], "detect.docs")
    assert (globs.match(path) is not None) is expected


def test_last_matching_pattern_decides() -> None:
    globs = compile_globs(["docs/**", "!docs/conf.py", "docs/conf.py.md"], "detect.docs")
    assert globs.match("docs/index.md") == "docs/**"
    assert globs.match("docs/conf.py") is None
    assert globs.match("docs/conf.py.md") == "docs/conf.py.md"
    assert globs.match("src/app.py") is None


def test_leading_dot_slash_is_ignored() -> None:
    assert normalize_path("./docs/a.md") == "docs/a.md"
    assert compile_globs(["docs/**"], "detect.docs").match("./docs/a.md") == "docs/**"


@pytest.mark.parametrize("pattern", ["", "!", "/", "!/"])
def test_empty_patterns_are_configuration_errors(pattern: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f'detect.heavy: "{pattern}" is an empty')):
        compile_globs([pattern], "detect.heavy")


def test_a_bad_range_names_the_key_and_pattern() -> None:
    with pytest.raises(ConfigError, match=r'detect.docs: "\[z-a\]" is not a valid pattern'):
        compile_globs(["[z-a]"], "detect.docs")


COMPONENT = st.text(alphabet="abcxyz._-", min_size=1, max_size=6).filter(
    lambda part: part not in {".", ".."}
)
PATHS = st.lists(COMPONENT, min_size=1, max_size=5).map("/".join)


@given(PATHS, COMPONENT)
def test_a_plain_name_matches_exactly_the_paths_with_that_component(path: str, name: str) -> None:
    globs = compile_globs([name], "detect.heavy")
    assert (globs.match(path) is not None) is (name in path.split("/"))


@given(PATHS)
def test_double_star_suffix_matches_everything_below(path: str) -> None:
    globs = compile_globs(["top/**"], "detect.docs")
    assert globs.match(f"top/{path}") == "top/**"
    assert globs.match(path) is None or path.startswith("top/")


@given(PATHS, st.sampled_from(["md", "rst", "txt"]))
def test_star_extension_matches_at_any_depth(path: str, extension: str) -> None:
    globs = compile_globs([f"*.{extension}"], "detect.docs")
    assert globs.match(f"{path}.{extension}") is not None
    assert globs.match(f"{path}.{extension}x") is None or f".{extension}/" in path + "/"
