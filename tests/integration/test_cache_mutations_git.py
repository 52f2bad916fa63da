"""Generated mutations that git's own view hides: sparse checkouts (cone and non-cone, with
a sparse index) and submodules whatever their `ignore` setting says.

Every case gets a fresh repository (cloned from a template made once), since sparse
checkouts and submodules leave state that no reset undoes cheaply. The counting is
`tests/integration/mutations.py`'s.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cache.key import StageIdentity
from tests.integration.cache_repo import FILES, git, make_repo, stages
from tests.integration.mutations import Case, Mutation, run_cases

pytestmark = pytest.mark.integration

ENV = {"PATH": os.environ.get("PATH", ""), "PKG_MODE": "fast"}
BOTH = frozenset({"narrow", "wide"})
WIDE = frozenset({"wide"})
NONE: frozenset[str] = frozenset()
ALLOW_FILE = ("-c", "protocol.file.allow=always")


def _sparse(*args: str) -> Mutation:
    return lambda repo: git(repo, "sparse-checkout", "set", *args)


def _write(path: str, text: str) -> Mutation:
    def mutate(repo: Path) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")

    return mutate


def _sparse_cases() -> Iterator[Case]:
    for how in (("--cone",), ("--cone", "--sparse-index")):
        label = " ".join(how)
        cone = _sparse(*how, "src")
        yield Case(f"sparse {label}: tests/ and docs/ leave the disk", cone, BOTH)
        yield Case(
            f"sparse {label}: a file outside the cone written with other content",
            _write("tests/test_core.py", "def test_other():\n    pass\n"),
            BOTH,
            setup=cone,
        )
        yield Case(
            f"sparse {label}: a file outside the cone written as committed",
            _write("tests/test_core.py", FILES["tests/test_core.py"]),
            BOTH,
            setup=cone,
        )
        yield Case(
            f"sparse {label}: a docs file outside the cone written",
            _write("docs/guide.md", "# other\n"),
            WIDE,
            setup=cone,
        )
        yield Case(
            f"sparse {label}: a file inside the cone edited",
            _write("src/pkg/core.py", "changed = 1\n"),
            BOTH,
            setup=cone,
        )
        yield Case(
            f"sparse {label}: turned off again",
            lambda repo: git(repo, "sparse-checkout", "disable"),
            BOTH,
            setup=cone,
        )
        yield Case(f"sparse {label}: nothing else", lambda repo: None, NONE, setup=cone)
    patterns = _sparse("--no-cone", "/src/", "/pyproject.toml", "/mypy.ini", "/.gitignore")
    yield Case("sparse non-cone: files leave the disk", patterns, BOTH)
    yield Case(
        "sparse non-cone: a file outside the patterns written",
        _write("tests/conftest.py", "import os\n"),
        BOTH,
        setup=patterns,
    )
    yield Case(
        "sparse non-cone: README.md written outside the patterns",
        _write("README.md", "# other\n"),
        WIDE,
        setup=patterns,
    )


def test_sparse_checkouts_are_read_from_the_disk(tmp_path: Path) -> None:
    template = make_repo(tmp_path / "template")
    counter = iter(range(1000))

    def fresh() -> tuple[Path, list[StageIdentity]]:
        repo = tmp_path / f"clone{next(counter)}"
        git(tmp_path, "clone", "-q", str(template), str(repo))
        return repo, stages(repo)

    tally = run_cases("sparse checkouts", list(_sparse_cases()), fresh, ENV)
    assert tally.checked >= 30
    assert tally.wrong_hits == []
    assert tally.unexpected == []


# -- submodules ------------------------------------------------------------------------
def _in_sub(*args: str) -> Mutation:
    return lambda repo: git(repo / "src" / "vendor", *args)


def _ignore(setting: str) -> Mutation:
    def setup(repo: Path) -> None:
        git(repo, "config", "-f", ".gitmodules", "submodule.src/vendor.ignore", setting)
        git(repo, "commit", "-q", "-am", f"ignore = {setting}")

    return setup


def _submodule_cases() -> Iterator[Case]:
    edit = _write("src/vendor/src/pkg/core.py", "def add(a, b):\n    return a - b\n")
    for setting in ("none", "dirty", "untracked", "all"):
        ignore = _ignore(setting)
        yield Case(f"ignore = {setting}: a file of the submodule edited", edit, BOTH, setup=ignore)
        yield Case(
            f"ignore = {setting}: an untracked file added in the submodule",
            _write("src/vendor/src/pkg/extra.py", "X = 1\n"),
            BOTH,
            setup=ignore,
        )
        yield Case(
            f"ignore = {setting}: the submodule checked out at another commit",
            _in_sub("checkout", "-q", "HEAD~1"),
            BOTH,
            setup=ignore,
        )
        yield Case(
            f"ignore = {setting}: a file of the submodule touched",
            lambda repo: os.utime(repo / "src/vendor/src/pkg/core.py", (1, 1)),
            NONE,
            setup=ignore,
        )
    flagged = _in_sub("update-index", "--assume-unchanged", "src/pkg/core.py")
    yield Case("a file the submodule's index assumes unchanged, edited", edit, BOTH, setup=flagged)
    skipped = _in_sub("update-index", "--skip-worktree", "src/pkg/core.py")
    yield Case("a file the submodule's index skips, edited", edit, BOTH, setup=skipped)
    yield Case("the submodule removed from the disk", _deinit, BOTH)
    yield Case("nothing changed", lambda repo: None, NONE)


def _deinit(repo: Path) -> None:
    git(repo, "submodule", "deinit", "-q", "-f", "src/vendor")


def test_submodules_are_read_whatever_git_is_told_to_ignore(tmp_path: Path) -> None:
    vendored = make_repo(tmp_path / "vendored")
    (vendored / "README.md").write_text("# vendored, second commit\n")
    git(vendored, "commit", "-q", "-am", "second")
    template = make_repo(tmp_path / "template")
    git(template, *ALLOW_FILE, "submodule", "add", "-q", str(vendored), "src/vendor")
    git(template, "commit", "-q", "-m", "vendored")
    counter = iter(range(1000))

    def fresh() -> tuple[Path, list[StageIdentity]]:
        repo = tmp_path / f"clone{next(counter)}"
        shutil.copytree(template, repo, symlinks=True)
        return repo, stages(repo)

    tally = run_cases("submodules", list(_submodule_cases()), fresh, ENV)
    assert tally.checked >= 40
    assert tally.wrong_hits == []
    assert tally.unexpected == []
