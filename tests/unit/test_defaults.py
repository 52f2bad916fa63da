"""Built-in stages look at the project's own source, never a virtualenv or a build tree,
and follow what the project already configures: pytest's testpaths and layout, mypy only
where it is configured for the Python the stages run, ruff without fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.configfile.defaults import default_stages, without
from orchestrator.configfile.project import stage_python
from orchestrator.model.globs import compile_globs

RUNNING = "{}.{}".format(*stage_python())


def tree(root: Path, files: list[str]) -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def write(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)


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
    write(tmp_path, "mypy.ini", "[mypy]\nstrict = true\n")
    write(tmp_path, "tox.ini", "[testenv:types]\ncommands = mypy scripts tool.py\n")
    stages = default_stages(tmp_path).stages
    assert stages["lint"].run == ("ruff", "check", "--no-fix", "scripts", "tool.py")
    assert stages["typecheck"].run == ("mypy", "scripts", "tool.py")
    assert stages["security"].run == ("bandit", "-q", "-ll", "-r", "scripts", "tool.py")


def test_with_git_only_what_it_lists_counts(tmp_path: Path) -> None:
    tree(tmp_path, ["pkg/__init__.py", "gen/__init__.py", "src/lib/__init__.py", "tests/t.py"])
    write(tmp_path, "setup.cfg", "[mypy]\nwarn_unused_ignores = true\n")
    write(tmp_path, "Makefile", "typecheck:\n\tmypy pkg src/lib\n")
    listed = ["pkg/__init__.py", "src/lib/__init__.py", "tests/t.py", "gone/__init__.py"]
    stages = default_stages(tmp_path, listed).stages
    assert stages["typecheck"].run == ("mypy", "pkg", "src/lib")
    assert stages["security"].run == ("bandit", "-q", "-ll", "-r", "pkg", "src/lib")
    assert stages["lint"].run == ("ruff", "check", "--no-fix", "pkg", "src", "tests")


def test_an_empty_project_still_has_a_target(tmp_path: Path) -> None:
    built_in = default_stages(tmp_path, [])
    assert built_in.stages["lint"].run == ("ruff", "check", "--no-fix", ".")
    assert "unit" not in built_in.stages and "typecheck" not in built_in.stages
    assert any(note.startswith("unit left out: no test files") for note in built_in.notes)
    assert any("no mypy configuration" in note for note in built_in.notes)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pytest.ini", "[pytest]\ntestpaths = tests\n"),
        ("tox.ini", "[tox]\nenvlist = py\n[pytest]\ntestpaths =\n    tests\n"),
        ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\ntestpaths = tests\n"),
        ("pyproject.toml", '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'),
        ("pyproject.toml", '[tool.pytest]\ntestpaths = ["tests"]\n'),
    ],
)
def test_pytest_runs_the_configured_testpaths_and_nothing_else(
    tmp_path: Path, name: str, text: str
) -> None:
    tree(tmp_path, ["tests/test_a.py", "bench/test_speed.py", "src/pkg/__init__.py"])
    write(tmp_path, name, text)
    built_in = default_stages(tmp_path)
    # pytest applies testpaths itself when it is given no path at the project's root.
    assert built_in.stages["unit"].run == ("pytest", "-q", "-rfE")
    assert any("testpaths" in note and name in note for note in built_in.notes)


def test_without_testpaths_pytest_runs_tests_not_the_benchmarks(tmp_path: Path) -> None:
    tree(tmp_path, ["tests/test_a.py", "bench/test_speed.py"])
    assert default_stages(tmp_path).stages["unit"].run == ("pytest", "-q", "-rfE", "tests")


def test_unit_and_integration_apart_only_when_they_hold_every_test(tmp_path: Path) -> None:
    tree(tmp_path, ["tests/unit/test_a.py", "tests/integration/test_b.py"])
    stages = default_stages(tmp_path).stages
    assert (stages["unit"].run or ())[-1] == "tests/unit"
    assert (stages["integration"].run or ())[-1] == "tests/integration"
    tree(tmp_path, ["tests/test_top.py"])  # would be run by neither
    stages = default_stages(tmp_path).stages
    assert (stages["unit"].run or ())[-1] == "tests" and "integration" not in stages


def test_test_files_named_by_python_files_without_a_tests_directory(tmp_path: Path) -> None:
    tree(tmp_path, ["pkg/check_things.py", "pkg/__init__.py"])
    assert "unit" not in default_stages(tmp_path).stages
    write(tmp_path, "pytest.ini", "[pytest]\npython_files = check_*.py\n")
    assert default_stages(tmp_path).stages["unit"].run == ("pytest", "-q", "-rfE")


def test_a_project_asking_for_all_report_chars_keeps_them(tmp_path: Path) -> None:
    tree(tmp_path, ["tests/test_a.py"])
    write(tmp_path, "pytest.ini", "[pytest]\naddopts = -ra --strict-markers\n")
    assert default_stages(tmp_path).stages["unit"].run == ("pytest", "-q", "tests")
    write(tmp_path, "pytest.ini", "[pytest]\naddopts = -rs\n")
    assert default_stages(tmp_path).stages["unit"].run == ("pytest", "-q", "-rfE", "tests")


def test_mypy_runs_the_files_its_configuration_names(tmp_path: Path) -> None:
    tree(tmp_path, ["src/pkg/__init__.py"])
    write(tmp_path, "pyproject.toml", '[tool.mypy]\nfiles = ["src"]\npython_version = "3.9"\n')
    built_in = default_stages(tmp_path)
    assert built_in.stages["typecheck"].run == ("mypy",)
    note = next(n for n in built_in.notes if n.startswith("typecheck"))
    if RUNNING != "3.9":
        assert "checks as Python 3.9" in note


def test_mypy_listed_only_for_another_python_is_left_out(tmp_path: Path) -> None:
    tree(tmp_path, ["src/pkg/__init__.py"])
    write(
        tmp_path,
        "pyproject.toml",
        "[tool.mypy]\nstrict = true\n[dependency-groups]\n"
        "test = [\"mypy; python_version == '2.7'\", 'pytest']\n",
    )
    built_in = default_stages(tmp_path)
    assert "typecheck" not in built_in.stages
    assert any("python_version == '2.7'" in note for note in built_in.notes)
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.mypy]\nstrict = true\nfiles = ["src"]\n[dependency-groups]\n'
        f"test = [\"mypy; python_version == '{RUNNING}'\"]\n",
    )
    assert "typecheck" in default_stages(tmp_path).stages


def test_mypy_options_with_nothing_to_check_are_not_a_type_check(tmp_path: Path) -> None:
    # A pytest plugin's mypy settings (cattrs' typing tests): no files, run nowhere.
    tree(tmp_path, ["src/pkg/__init__.py"])
    write(tmp_path, "pyproject.toml", "[tool.mypy]\nstrict = true\n")
    built_in = default_stages(tmp_path)
    assert "typecheck" not in built_in.stages
    assert any("names no files" in note for note in built_in.notes)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    write(tmp_path, ".github/workflows/ci.yml", "jobs:\n  t:\n    steps:\n      - run: mypy src\n")
    built_in = default_stages(tmp_path)
    assert built_in.stages["typecheck"].run == ("mypy", "src/pkg")
    assert any("as .github/workflows/ci.yml runs it" in note for note in built_in.notes)


def test_lint_never_fixes_and_says_so_when_the_project_asks_for_fixes(tmp_path: Path) -> None:
    tree(tmp_path, ["a.py"])
    write(tmp_path, ".ruff.toml", "fix = true\nunsafe-fixes = true\n")
    built_in = default_stages(tmp_path)
    assert "--no-fix" in (built_in.stages["lint"].run or ())
    assert any(".ruff.toml sets fix = true" in note for note in built_in.notes)


def test_inputs_leave_out_the_docs_unless_pytest_reads_them(tmp_path: Path) -> None:
    tree(tmp_path, ["tests/test_a.py", "pkg/__init__.py"])
    stages = default_stages(tmp_path, None, ("**/*.md", "docs/**", "!docs/conf.py")).stages
    inputs = stages["unit"].inputs
    assert inputs is not None
    globs = compile_globs(inputs, "inputs")
    assert globs.match("README.md") is None and globs.match("docs/a/b.txt") is None
    assert globs.match("docs/conf.py") is not None and globs.match("pkg/x.py") is not None
    assert without(("a", "!b")) == ("*", "!a", "b")
    write(tmp_path, "pytest.ini", "[pytest]\naddopts = --doctest-glob='*.md'\n")
    assert default_stages(tmp_path).stages["unit"].inputs is None


def test_configured_mypy_files_missing_from_the_checkout_are_left_out(tmp_path: Path) -> None:
    # An sdist ships src/ and tests/ but not the examples/ its mypy configuration names.
    tree(tmp_path, ["src/pkg/__init__.py", "tests/test_a.py"])
    write(tmp_path, "pyproject.toml", '[tool.mypy]\nfiles = ["src", "tests", "examples"]\n')
    built_in = default_stages(tmp_path)
    assert built_in.stages["typecheck"].run == ("mypy", "src", "tests")
    assert any("examples (in its files) does not exist here" in n for n in built_in.notes)
    write(tmp_path, "pyproject.toml", '[tool.mypy]\nfiles = ["examples"]\n')
    assert "typecheck" not in default_stages(tmp_path).stages
