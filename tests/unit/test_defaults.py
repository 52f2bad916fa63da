"""Built-in stages look at the project's own source, never a virtualenv or a build tree."""

from __future__ import annotations

from pathlib import Path

from orchestrator.configfile.defaults import default_stages


def tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def test_without_git_virtualenvs_and_build_trees_are_left_out(tmp_path: Path) -> None:
    tree(
        tmp_path,
        [
            "tool.py",
            "scripts/run.py",
            "env/pyvenv.cfg",
            "env/lib/site.py",
            "build/lib/gen.py",
            "node_modules/x/y.py",
            "dist/z.py",
            "pkg.egg-info/a.py",
            ".tox/b.py",
        ],
    )
    stages = default_stages(tmp_path)
    assert stages["lint"].run == ("ruff", "check", "scripts", "tool.py")
    assert stages["typecheck"].run == ("mypy", "scripts", "tool.py")
    assert stages["security"].run == ("bandit", "-q", "-ll", "-r", "scripts", "tool.py")


def test_with_git_only_what_it_lists_counts(tmp_path: Path) -> None:
    tree(tmp_path, ["pkg/__init__.py", "gen/__init__.py", "src/lib/__init__.py", "tests/t.py"])
    listed = ["pkg/__init__.py", "src/lib/__init__.py", "tests/t.py", "gone/__init__.py"]
    stages = default_stages(tmp_path, listed)
    assert stages["typecheck"].run == ("mypy", "pkg", "src/lib")
    assert stages["security"].run == ("bandit", "-q", "-ll", "-r", "pkg", "src/lib")
    assert stages["lint"].run == ("ruff", "check", "pkg", "src", "tests")


def test_an_empty_project_still_has_a_target(tmp_path: Path) -> None:
    assert default_stages(tmp_path, [])["lint"].run == ("ruff", "check", ".")
