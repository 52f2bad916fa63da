"""Generated mutations of a real git repository, each asserting a cache hit or a miss.

Every case starts from the committed project, computes both stages' keys, applies one
change, computes them again and checks which stages must miss: a wrong hit (a change
that the key missed) and a needless miss (a change the key should ignore) both fail.
`narrow` declares its inputs; `wide` takes every file git tracks or would track.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.cache_repo import FILES, git, keys, make_repo, stages

pytestmark = pytest.mark.integration

BOTH = frozenset({"narrow", "wide"})
WIDE = frozenset({"wide"})
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


@dataclass(frozen=True)
class Case:
    """One change and the stages whose key it must change."""

    label: str
    mutate: Callable[[Path], object]
    misses: frozenset[str]
    setup: Callable[[Path], object] | None = None


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
    yield Case("ruff.toml added", _write("ruff.toml", "line-length = 80\n"), WIDE)
    yield Case("a new commit that changes nothing", _empty_commit, NONE)
    yield Case("a new branch checked out", _new_branch, NONE)


def _touch_all(repo: Path) -> None:
    for name in FILES:
        os.utime(repo / name, None)


def _empty_commit(repo: Path) -> None:
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")


def _new_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")


CASES = list(_cases())


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("mutations") / "project")


def _reset(repo: Path) -> None:
    git(repo, "checkout", "-q", "-f", "main")
    git(repo, "reset", "-q", "--hard", "project-base")
    git(repo, "clean", "-q", "-f", "-d", "-x")
    for name in FILES:
        (repo / name).chmod(0o644)
    git(repo, "branch", "-q", "-D", "feature") if "feature" in git(repo, "branch") else None


def test_every_file_change_is_a_hit_or_a_miss_as_it_must(repo: Path) -> None:
    git(repo, "tag", "project-base")
    stage_list = stages(repo)
    wrong_hits: list[str] = []
    needless_misses: list[str] = []
    checked = 0
    for case in CASES:
        _reset(repo)
        if case.setup is not None:
            case.setup(repo)
        before = keys(stage_list, ENV)
        case.mutate(repo)
        after = keys(stage_list, ENV)
        for name in ("narrow", "wide"):
            checked += 1
            missed = before[name] != after[name]
            if name in case.misses and not missed:
                wrong_hits.append(f"{name}: {case.label}")
            if name not in case.misses and missed:
                needless_misses.append(f"{name}: {case.label}")
    print(
        f"\ncache mutations: {checked} cases, {len(wrong_hits)} wrong hits, "
        f"{len(needless_misses)} needless misses"
    )
    assert checked >= 200
    assert wrong_hits == []
    assert needless_misses == []


def test_environment_changes(repo: Path) -> None:
    stage_list = stages(repo)
    base = keys(stage_list, ENV)
    assert keys(stage_list, {**ENV, "PKG_MODE": "slow"}) != base  # a cache_env value
    unset = {k: v for k, v in ENV.items() if k != "PKG_MODE"}
    assert keys(stage_list, unset)["narrow"] != base["narrow"]  # a cache_env variable unset
    assert keys(stage_list, {**ENV, "PKG_MODE": ""})["wide"] != keys(stage_list, unset)["wide"]
    assert keys(stage_list, {**ENV, "OTHER": "2", "HOME": "/elsewhere"}) == base  # not in the key
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
    # Seen from outside, a submodule with changes of its own cannot be read cheaply:
    # every computation differs (always a miss, never a wrong hit).
    wide = [s for s in stage_list if s.name == "wide"]
    assert keys(wide, ENV) != keys(wide, ENV)
    # An untracked nested repository in the inputs likewise.
    make_repo(outer / "src" / "vendored")
    narrow = [s for s in stages(outer) if s.name == "narrow"]
    assert keys(narrow, ENV) != keys(narrow, ENV)
