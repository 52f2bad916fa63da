"""Generated mutations of where things live: configuration above the stage's directory,
wrapper scripts, symlinked directories (inside the repository and leaving it).

Each family is a real git repository in tmp_path, reset between cases; the cases and
the counting are `tests/integration/mutations.py`'s.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.cache.key import StageIdentity
from orchestrator.model.config import StageConfig
from tests.integration.cache_repo import git
from tests.integration.mutations import Case, Mutation, run_cases
from tests.integration.test_cache_mutations import TOOL_CONFIGS

pytestmark = pytest.mark.integration

ENV = {"PATH": os.environ.get("PATH", "")}
NONE: frozenset[str] = frozenset()


def _write(path: str, text: str = "changed = 1\n") -> Mutation:
    def mutate(root: Path) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")

    return mutate


def _append(path: str) -> Mutation:
    return lambda root: (root / path).write_bytes((root / path).read_bytes() + b"# more\n")


def _touch(path: str) -> Mutation:
    return lambda root: os.utime(root / path, (1_000_000_000, 1_000_000_000))


def _delete(path: str) -> Mutation:
    return lambda root: (root / path).unlink()


def _repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        _write(name, text)(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    git(root, "tag", "base")
    return root


def _reset(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "base")
    git(repo, "clean", "-q", "-f", "-d", "-x")


def _stage(
    name: str, cwd: Path, run: tuple[str, ...], inputs: tuple[str, ...] | None
) -> StageIdentity:
    return StageIdentity(name, StageConfig(run=run, inputs=inputs), cwd, (cwd / ".workflow",))


# -- configuration above the stage's directory ---------------------------------------
MONO = {
    "pyproject.toml": "[tool.ruff]\nline-length = 100\n",
    ".gitignore": ".workflow/\n.coveragerc\n",
    "services/README.md": "# services\n",
    "services/api/src/api/core.py": "def f():\n    return 1\n",
    "services/api/tests/test_core.py": "def test_f():\n    assert True\n",
    "services/api/docs/index.md": "# api\n",
}
SERVICE = frozenset({"svc_narrow", "svc_wide"})


def _ancestor_cases() -> Iterator[Case]:
    for name in TOOL_CONFIGS:
        text = "[tool.x]\n" if name.endswith(".toml") else "# configured\n"
        for where in ("", "services/"):
            if f"{where}{name}" in MONO:
                yield Case(f"{where}{name} edited", _append(f"{where}{name}"), SERVICE)
            else:
                yield Case(f"{name} created in /{where}", _write(f"{where}{name}", text), SERVICE)
        yield Case(
            f"{name} created in the service's docs/",
            _write(f"services/api/docs/{name}", text),
            frozenset({"svc_wide"}),
            may=frozenset({"svc_narrow"}),
        )
        yield Case(
            f"{name} created above the repository", _write(f"../{name}", text), NONE, may=SERVICE
        )
    yield Case("an ignored .coveragerc created at the top", _write(".coveragerc"), SERVICE)
    yield Case("pyproject.toml at the top touched", _touch("pyproject.toml"), NONE)
    yield Case("services/README.md edited", _append("services/README.md"), NONE)
    yield Case("a file created at the top", _write("notes.txt"), NONE)
    yield Case("a source of the service edited", _append("services/api/src/api/core.py"), SERVICE)


def test_configuration_above_the_stage_is_keyed(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "mono" / "repo", MONO)
    service = repo / "services" / "api"
    run = ("ruff", "check", ".")
    stage_list = [
        _stage("svc_narrow", service, run, ("src/**", "tests/**")),
        _stage("svc_wide", service, run, None),
    ]

    def fresh() -> tuple[Path, list[StageIdentity]]:
        _reset(repo)
        for name in TOOL_CONFIGS:  # what a case left above the repository
            (repo.parent / name).unlink(missing_ok=True)
        return repo, stage_list

    tally = run_cases("configuration above the stage", list(_ancestor_cases()), fresh, ENV)
    assert tally.checked >= 100
    assert tally.wrong_hits == []
    assert tally.unexpected == []


# -- wrapper scripts ------------------------------------------------------------------
WRAPPED = {
    ".gitignore": ".workflow/\n",
    "src/app.py": "X = 1\n",
    "scripts/check.sh": "ruff check src\n",
    "scripts/lint": "#!/bin/sh\nexec ruff check src\n",
    "tools/check.py": "import sys\nsys.exit(0)\n",
    "ci.mk": "lint:\n\truff check src\n",
    "Makefile": "lint:\n\truff check src\n",
    "tox.ini": "[testenv:lint]\ncommands = ruff check src\n",
    "noxfile.py": "import nox\n",
    "docs/index.md": "# app\n",
}
WRAPPERS = {
    "sh": ("sh", "-c", "bash scripts/check.sh && echo done"),
    "script": ("./scripts/lint",),
    "python": (sys.executable, "tools/check.py"),
    "make-f": ("make", "-f", "ci.mk", "lint"),
    "make": ("make", "lint"),
    "tox": ("tox", "-e", "lint"),
    "nox": ("nox", "-s", "lint"),
}
EVERY = frozenset(WRAPPERS)


def _wrapper_cases() -> Iterator[Case]:
    owners = {
        "scripts/check.sh": {"sh"},
        "scripts/lint": {"script"},
        "tools/check.py": {"python"},
        "ci.mk": {"make-f"},
        "Makefile": {"make"},
        "tox.ini": {"tox"},
        "noxfile.py": {"nox"},
    }
    for path, stages in owners.items():
        must = frozenset(stages)
        # Makefile, tox.ini and noxfile.py are read by their tools wherever they start:
        # every stage keys them (a needless miss for the others).
        may = EVERY - must if path in ("Makefile", "tox.ini", "noxfile.py") else NONE
        yield Case(f"{path} edited", _append(path), must, may=may)
        yield Case(f"{path} deleted", _delete(path), must, may=may)
        yield Case(f"{path} touched", _touch(path), NONE)
    yield Case("src/app.py edited", _append("src/app.py"), EVERY)
    yield Case("docs/index.md edited", _append("docs/index.md"), NONE)


def test_wrapper_scripts_are_keyed(tmp_path: Path) -> None:
    repo = _repo(tmp_path / "wrapped", WRAPPED)
    (repo / "scripts" / "lint").chmod(0o755)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "executable")
    git(repo, "tag", "-f", "base")
    stage_list = [_stage(name, repo, run, ("src/**",)) for name, run in WRAPPERS.items()]

    def fresh() -> tuple[Path, list[StageIdentity]]:
        _reset(repo)
        return repo, stage_list

    tally = run_cases("wrapper scripts", list(_wrapper_cases()), fresh, ENV)
    assert tally.checked >= 150
    assert tally.wrong_hits == []
    assert tally.unexpected == []


# -- symlinked directories and files ------------------------------------------------
LINKED = {
    ".gitignore": ".workflow/\n",
    "src/app.py": "X = 1\n",
    "shared/helpers.py": "def helper():\n    return 2\n",
    "shared/data/table.csv": "a,b\n",
    "docs/index.md": "# app\n",
}
BOTH = frozenset({"narrow", "wide"})


def _link_cases() -> Iterator[Case]:
    yield Case("a file of a linked directory edited", _append("shared/helpers.py"), BOTH)
    yield Case("a file added to a linked directory", _write("shared/new.py"), BOTH)
    yield Case("a file of a linked directory deleted", _delete("shared/data/table.csv"), BOTH)
    yield Case("a linked file's target edited", _append("shared/data/table.csv"), BOTH)
    yield Case("a linked directory's file touched", _touch("shared/helpers.py"), NONE)
    yield Case("a file outside the repository edited", _append("../outside/vendor.py"), BOTH)
    yield Case("a file added outside the repository", _write("../outside/more.py"), BOTH)
    yield Case("a file outside the repository deleted", _delete("../outside/vendor.py"), BOTH)
    yield Case("a file outside the repository touched", _touch("../outside/vendor.py"), NONE)
    yield Case("a link turned to another directory", _relink("src/ext", "../shared"), BOTH)
    yield Case("docs/index.md edited", _append("docs/index.md"), frozenset({"wide"}))


def _relink(link: str, target: str) -> Mutation:
    def mutate(root: Path) -> None:
        (root / link).unlink()
        (root / link).symlink_to(target)

    return mutate


def _outside(root: Path) -> None:
    outside = root / "outside"
    outside.mkdir(exist_ok=True)
    for path in outside.iterdir():
        path.unlink()
    (outside / "vendor.py").write_text("VENDORED = 1\n", encoding="utf-8")


def test_symlinked_directories_are_read_through(tmp_path: Path) -> None:
    _outside(tmp_path)
    repo = tmp_path / "linked"
    _repo(repo, LINKED)
    (repo / "src" / "shared").symlink_to("../shared")  # a directory inside the repository
    (repo / "src" / "table.csv").symlink_to("../shared/data/table.csv")  # a file
    (repo / "src" / "ext").symlink_to(tmp_path / "outside")  # leaving the repository
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    git(repo, "tag", "-f", "base")
    run = ("ruff", "check", "src")
    stage_list = [_stage("narrow", repo, run, ("src/**",)), _stage("wide", repo, run, None)]

    def fresh() -> tuple[Path, list[StageIdentity]]:
        _reset(repo)
        _outside(tmp_path)
        return repo, stage_list

    tally = run_cases("symlinked directories", list(_link_cases()), fresh, ENV)
    assert tally.checked >= 20
    assert tally.wrong_hits == []
    assert tally.unexpected == []
