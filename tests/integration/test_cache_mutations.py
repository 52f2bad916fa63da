"""Generated mutations of a real git repository, each asserting a cache hit or a miss.

Every case starts from the committed project, computes both stages' keys, applies one
change, computes them again and checks which stages must miss (`tests/integration/
mutations.py`): a wrong hit (a change that the key missed) fails, and so does a miss
where the key must hold; the needless misses a case accepts are counted and reported.
`narrow` declares its inputs; `wide` takes every file git tracks or would track. Beyond
edits of every kind: configuration files of every tool the built-in stages run, created
where tools find them (and ignored by git), and files git's index is told not to check
(`assume-unchanged`, `skip-worktree`) or whose content a `.gitattributes` filter hides.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.cache.configs import CONFIG_NAMES
from orchestrator.cache.key import StageIdentity
from orchestrator.pipeline.cachekeys import current_keys
from tests.integration.cache_repo import FILES, git, keys, make_repo, stages
from tests.integration.mutations import Case, outcomes, run_cases

pytestmark = pytest.mark.integration

BOTH = frozenset({"narrow", "wide"})
WIDE = frozenset({"wide"})
NARROW = frozenset({"narrow"})
NONE: frozenset[str] = frozenset()
INPUTS = [
    name
    for name in FILES
    if name.startswith(("src/", "tests/"))
    or name
    in (
        "pyproject.toml",
        "mypy.ini",
    )
]
OUTSIDE = ["docs/guide.md", "README.md"]
ENV = {"PATH": os.environ.get("PATH", ""), "PKG_MODE": "fast", "OTHER": "1"}


# The configuration files of the tools the built-in stages run (ruff, mypy, pytest,
# bandit) and of coverage, which pytest stages often load.
TOOL_CONFIGS = (
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
    "ruff.toml",
    ".ruff.toml",
    "mypy.ini",
    ".mypy.ini",
    "pytest.ini",
    ".pytest.ini",
    "conftest.py",
    ".coveragerc",
    ".bandit",
    ".flake8",
)
assert set(TOOL_CONFIGS) <= CONFIG_NAMES


def _flip(path: str, index: int) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        data = bytearray((repo / path).read_bytes())
        position = index % len(data)
        data[position] = (data[position] + 1) % 128 or 65
        (repo / path).write_bytes(bytes(data))

    return mutate


def _append(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).write_bytes((repo / path).read_bytes() + b"\n")


def _empty(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).write_bytes(b"")


def _chmod(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).chmod(0o755)


def _symlink(path: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        other = "README.md" if path != "README.md" else "docs/guide.md"
        (repo / path).unlink()
        target = os.path.relpath(repo / other, (repo / path).parent)
        (repo / path).symlink_to(target)

    return mutate


def _rename(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).rename((repo / path).with_name("renamed_" + Path(path).name))


def _delete(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).unlink()


def _touch(path: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        os.utime(repo / path, (1_000_000_000, 1_000_000_000))

    return mutate


def _edit_and_revert(path: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        original = (repo / path).read_bytes()
        (repo / path).write_bytes(original + b"# edit\n")
        (repo / path).write_bytes(original)

    return mutate


def _stage_edit(path: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        _append(path)(repo)
        git(repo, "add", path)

    return mutate


def _commit_edit(path: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        _append(path)(repo)
        git(repo, "commit", "-q", "-am", "edit")

    return mutate


def _write(path: str, text: str = "x = 1\n") -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")

    return mutate


def _replace_text(path: str, old: str, new: str) -> Callable[[Path], object]:
    def mutate(repo: Path) -> None:
        text = (repo / path).read_text(encoding="utf-8")
        assert old in text
        (repo / path).write_text(text.replace(old, new), encoding="utf-8")

    return mutate


def _file_cases(path: str, misses: frozenset[str]) -> Iterator[Case]:
    size = len(FILES[path])
    for index in (0, size // 2, size - 1):
        yield Case(f"one byte at {index} of {path}", _flip(path, index), misses)
    yield Case(f"a newline appended to {path}", _append(path), misses)
    yield Case(f"{path} emptied", _empty(path), misses)
    yield Case(f"{path} made executable", _chmod(path), misses)
    yield Case(f"{path} turned into a symlink", _symlink(path), misses)
    yield Case(f"{path} renamed", _rename(path), misses)
    yield Case(f"{path} deleted", _delete(path), misses)
    yield Case(f"{path} edited and staged", _stage_edit(path), misses)
    yield Case(f"{path} edited and committed", _commit_edit(path), misses)
    yield Case(f"{path} touched", _touch(path), NONE)
    yield Case(f"{path} edited and restored", _edit_and_revert(path), NONE)


def _cases() -> Iterator[Case]:
    for path in INPUTS:
        yield from _file_cases(path, BOTH)
    for path in OUTSIDE:
        yield from _file_cases(path, WIDE)
    for name in ("src/pkg/new.py", "tests/test_new.py", "src/pkg/sub/deep.py", "src/data.bin"):
        yield Case(f"untracked {name} added", _write(name), BOTH)
        yield Case(f"untracked {name} removed", _delete(name), BOTH, setup=_write(name))
        yield Case(f"untracked {name} edited", _flip(name, 0), BOTH, setup=_write(name))
    for name in ("docs/new.md", "notes.txt", "other/tool.cfg"):
        yield Case(f"untracked {name} outside the inputs", _write(name), WIDE)
    for name in ("build/out.o", "src/pkg/debug.log", "run.log", ".workflow/cache/x.entry"):
        yield Case(f"ignored {name} added", _write(name), NONE)
        yield Case(f"ignored {name} edited", _flip(name, 0), NONE, setup=_write(name))
    yield Case("every file touched", _touch_all, NONE)
    yield Case(
        "pyproject [tool.ruff] line-length",
        _replace_text("pyproject.toml", "line-length = 100", "line-length = 99"),
        BOTH,
    )
    yield Case(
        "pyproject [tool.mypy] strict off",
        _replace_text("pyproject.toml", "strict = true", "strict = false"),
        BOTH,
    )
    yield Case(
        "pyproject [tool.ruff] select added",
        _replace_text("pyproject.toml", "[tool.ruff]\n", '[tool.ruff]\nselect = ["E"]\n'),
        BOTH,
    )
    yield Case("mypy.ini option changed", _replace_text("mypy.ini", "= True", "= False"), BOTH)
    yield Case("a new commit that changes nothing", _empty_commit, NONE)
    yield Case("a new branch checked out", _new_branch, NONE)


def _config_cases() -> Iterator[Case]:
    """A tool's configuration created where it looks: both stages must miss, `inputs` or
    not; below the stage's directory, outside `narrow`'s inputs, it may miss too."""
    for name in TOOL_CONFIGS:
        text = "[tool.x]\n" if name.endswith(".toml") else "# changed\n"
        if name != "pyproject.toml":
            yield Case(f"{name} created in the stage's directory", _write(name, text), BOTH)
        yield Case(f"{name} created in docs/", _write(f"docs/{name}", text), WIDE, may=NARROW)
        yield Case(
            f"{name} created in the stage's directory, ignored by git",
            _write(name, text),
            BOTH,
            setup=_ignore(name) if name != "pyproject.toml" else _ignore("x.toml"),
        )
    yield Case("pytest's own cache written (it hides itself from git)", _tool_cache, NONE)
    yield Case(
        "an ignored src/pkg/_version.py created",
        _write("src/pkg/_version.py", "VERSION = '2'\n"),
        BOTH,
        setup=_ignore("_version.py"),
    )
    yield Case(
        "an ignored src/pkg/_version.py edited",
        _write("src/pkg/_version.py", "VERSION = '3'\n"),
        BOTH,
        setup=_both(_ignore("_version.py"), _write("src/pkg/_version.py")),
    )


def _tool_cache(repo: Path) -> None:
    cache = repo / ".pytest_cache"
    (cache / "v" / "cache").mkdir(parents=True)
    (cache / ".gitignore").write_text("# Created by pytest automatically.\n*\n")
    (cache / "v" / "cache" / "lastfailed").write_text("{}\n")
    (cache / "conftest.py").write_text("# not pytest's, but inside its cache all the same\n")


def _ignore(name: str) -> Callable[[Path], object]:
    def setup(repo: Path) -> None:
        with (repo / ".gitignore").open("a", encoding="utf-8") as ignore:
            ignore.write(f"{name}\n")
        git(repo, "commit", "-q", "-am", f"ignore {name}")

    return setup


FLAGGED = ["src/pkg/core.py", "tests/test_core.py", "pyproject.toml", "mypy.ini"]


def _flag_cases() -> Iterator[Case]:
    """Files git's index is told not to check: read from the disk all the same."""
    for path in [*FLAGGED, "docs/guide.md"]:
        must = BOTH if path in FLAGGED else WIDE
        for flag in ("--assume-unchanged", "--skip-worktree"):
            marked = _flag(path, flag)
            yield Case(f"{path} marked {flag}, then edited", _append(path), must, setup=marked)
            yield Case(f"{path} marked {flag}, then emptied", _empty(path), must, setup=marked)
            yield Case(f"{path} marked {flag}, then deleted", _delete(path), must, setup=marked)
            yield Case(f"{path} marked {flag}, then touched", _touch(path), NONE, setup=marked)
            yield Case(f"{path} marked {flag}, nothing else", marked, NONE)
            yield Case(
                f"{path} marked {flag} and edited, then restored",
                _restore(path),
                must,
                setup=_both(marked, _append(path)),
            )


def _both(
    first: Callable[[Path], object], then: Callable[[Path], object]
) -> Callable[[Path], object]:
    return lambda repo: (first(repo), then(repo))


def _flag(path: str, flag: str) -> Callable[[Path], object]:
    return lambda repo: git(repo, "update-index", flag, path)


def _restore(path: str) -> Callable[[Path], object]:
    return lambda repo: (repo / path).write_text(FILES[path], encoding="utf-8")


def _filter_cases() -> Iterator[Case]:
    """A `.gitattributes` clean filter that drops lines: the index never sees them."""
    for path in ("src/pkg/core.py", "tests/test_core.py"):
        yield Case(
            f"a line of {path} that a clean filter drops, edited",
            _replace_text(path, "# SECRET one", "# SECRET two"),
            BOTH,
            setup=_filtered(path),
        )
        yield Case(
            f"a file {path} under a clean filter, touched",
            _touch(path),
            NONE,
            setup=_filtered(path),
        )


def _filtered(path: str) -> Callable[[Path], object]:
    def setup(repo: Path) -> None:
        git(repo, "config", "filter.dropsecret.clean", "sed '/SECRET/d'")
        git(repo, "config", "filter.dropsecret.smudge", "cat")
        (repo / ".gitattributes").write_text("*.py filter=dropsecret\n", encoding="utf-8")
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-q", "-m", "filter")
        with (repo / path).open("a", encoding="utf-8") as source:
            source.write("# SECRET one\n")
        git(repo, "add", path)  # the filter drops the line: the index is as it was
        assert git(repo, "status", "--porcelain") == ""  # git sees no change at all

    return setup


def _touch_all(repo: Path) -> None:
    for name in FILES:
        os.utime(repo / name, None)


def _empty_commit(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")


def _new_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")


CASES = list(_cases())
FAMILIES = {  # each its own test, so each stays well inside the per-test time limit
    "edits": CASES,
    "configuration where tools look": list(_config_cases()),
    "index flags and filters": [*_flag_cases(), *_filter_cases()],
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = make_repo(tmp_path_factory.mktemp("mutations") / "project")
    git(made, "tag", "project-base")
    return made


def _reset(repo: Path) -> None:
    for flag in ("--no-skip-worktree", "--no-assume-unchanged"):  # one flag per call
        git(repo, "update-index", flag, "--", *FILES)
    if "dropsecret" in git(repo, "config", "--list"):
        git(repo, "config", "--remove-section", "filter.dropsecret")
    git(repo, "checkout", "-q", "-f", "main")
    git(repo, "reset", "-q", "--hard", "project-base")
    git(repo, "clean", "-q", "-f", "-d", "-x")
    for name in FILES:
        (repo / name).chmod(0o644)
    git(repo, "branch", "-q", "-D", "feature") if "feature" in git(repo, "branch") else None


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_file_change_is_a_hit_or_a_miss_as_it_must(repo: Path, family: str) -> None:
    stage_list = stages(repo)

    def fresh() -> tuple[Path, list[StageIdentity]]:
        _reset(repo)
        return repo, stage_list

    tally = run_cases(family, FAMILIES[family], fresh, ENV)
    assert tally.checked >= {"edits": 290, "configuration where tools look": 80}.get(family, 120)
    assert tally.wrong_hits == []
    assert tally.unexpected == []


def test_environment_changes(repo: Path) -> None:
    stage_list = stages(repo)
    base = keys(stage_list, ENV)
    assert keys(stage_list, {**ENV, "PKG_MODE": "slow"}) != base  # a cache_env value
    unset = {k: v for k, v in ENV.items() if k != "PKG_MODE"}
    assert keys(stage_list, unset)["narrow"] != base["narrow"]  # a cache_env variable unset
    assert keys(stage_list, {**ENV, "PKG_MODE": ""})["wide"] != keys(stage_list, unset)["wide"]
    assert keys(stage_list, {**ENV, "OTHER": "2"}) == base  # not in the key
    assert keys(stages(repo, cache_env=("PKG_MODE", "EXTRA")), ENV) != base  # table changed


def test_a_fresh_clone_in_another_directory_hits(repo: Path, tmp_path: Path) -> None:
    _reset(repo)
    clone = tmp_path / "elsewhere" / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, timeout=60)
    assert keys(stages(clone), ENV) == keys(stages(repo), ENV)
    (clone / "src/pkg/core.py").write_text("changed\n", encoding="utf-8")
    assert keys(stages(clone), ENV) != keys(stages(repo), ENV)


def test_nested_repositories_are_read_exactly_or_always_miss(tmp_path: Path) -> None:
    outer = make_repo(tmp_path / "outer")
    inner = make_repo(tmp_path / "inner")
    git(outer, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    git(outer, "commit", "-q", "-m", "submodule")
    stage_list = stages(outer)
    # A clean submodule is its commit: the same key twice.
    assert keys(stage_list, ENV) == keys(stage_list, ENV)
    # A stage inside the submodule reads the submodule's own files.
    inside = stages(outer / "sub")
    before = keys(inside, ENV)
    assert keys(inside, ENV) == before
    (outer / "sub" / "src/pkg/core.py").write_text("changed\n", encoding="utf-8")
    assert keys(inside, ENV)["narrow"] != before["narrow"]
    # Seen from outside, a submodule with changes of its own cannot be read cheaply: the
    # stage cannot be keyed (always a miss, never a wrong hit), and the reason says why.
    wide = [s for s in stage_list if s.name == "wide"]
    assert outcomes(wide, ENV) == {"wide": None}
    reason = current_keys(wide, ENV, bytes(32))["wide"]
    assert reason == (
        "sub is a submodule with changes of its own (or at another commit than the one "
        "recorded): its content is not read"
    )
    # An untracked nested repository in the inputs likewise.
    make_repo(outer / "src" / "vendored")
    narrow = [s for s in stages(outer) if s.name == "narrow"]
    assert outcomes(narrow, ENV) == {"narrow": None}
