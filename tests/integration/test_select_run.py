"""`select = "affected"` with real pytest, real git and real coverage: which tests run.

A small project (a package in src/ with a pytest plugin of its own, tests that call it
directly, read a data file, use a module fixture and run the package as `python -m pkg`
in a subprocess) is learned once
(`learned`); each test copies it, changes one thing and runs `workflow run`, then reads
which tests ran from the stage's JUnit file and why from its record. The stage runs
pytest from a small virtualenv of its own inside the project (its packages come from
workflow's environment through a .pth file), so a test can install a distribution in it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.pytest.junit import read_junit
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

CORE = """\
import json
from pathlib import Path

LIMIT = 10


def add(a, b):
    return a + b


def mul(a, b):
    return a * b


class Parser:
    sep = ","

    def parse(self, text):
        return text.split(self.sep)

    def load(self, path):
        return json.loads(Path(path).read_text())
"""
MAIN = "import sys\nfrom pkg.core import mul\nprint(mul(int(sys.argv[1]), 3))\n"
CONFTEST = """\
import pytest
from pkg.core import add


@pytest.fixture(scope="module")
def base():
    return add(1, 1)
"""
TESTS = """\
import os
import subprocess
import sys
from pathlib import Path

from pkg.core import Parser, add, mul


def test_add():
    assert add(1, 2) == 3


def test_mul():
    assert mul(2, 3) == 6


def test_parse():
    assert Parser().parse("a,b") == ["a", "b"]


def test_load():
    assert Parser().load(Path(__file__).parent / "data" / "x.json") == {"a": 1}


def test_base(base):
    assert base == 2


def test_cli():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(["src", os.environ["PYTHONPATH"]])}
    out = subprocess.run(
        [sys.executable, "-m", "pkg", "4"], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "12"


def test_env():
    assert os.environ.get("PKG_MODE") != "broken"
"""
WORKFLOW = """\
[workflow]
history = ".workflow/history.db"
reports = ".workflow/reports"

[stages.unit]
number = 4
run = ["env/bin/python", "-m", "pytest", "-p", "pkg.plug", "-q", "-p", "no:cacheprovider", "tests"]
env = { PYTHONPATH = "src" }
select = "affected"
"""
PLUGIN = "def pytest_report_header(config):\n    return 'pkg: its own plugin'\n"
ALL = {
    f"tests/test_core.py::test_{n}" for n in ("add", "mul", "parse", "load", "base", "cli", "env")
}
INNER_ENV = ("WORKFLOW_SELECT_CHILD", "WORKFLOW_SELECT_CONTEXT", "WORKFLOW_SELECT")


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """`workflow run` in `root`; its exit code and the unit stage's record. An outer
    learning run's variables are not passed on: this project learns for itself."""
    clean = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--lane", "standard", *args],
        cwd=root,
        env={**clean, "CI": "true", **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    runs = sorted((root / ".workflow" / "reports").glob("*/run.json"))
    record = json.loads(runs[-1].read_text()) if runs else {}
    stage: dict[str, Any] = next((s for s in record.get("stages", []) if s["name"] == "unit"), {})
    assert stage, done.stdout + done.stderr
    stage["stdout"] = done.stdout
    stage["run_dir"] = str(runs[-1].parent)
    return done.returncode, stage


def ran(stage: dict[str, Any]) -> set[str]:
    """The tests the stage ran, from its JUnit files (its parts', when split)."""
    run_dir = Path(stage["run_dir"])
    files = [p["junit"] for p in stage.get("parts", ())] or [stage["tests"]["junit"]]
    return {case.id for f in files if f for case in read_junit(run_dir / f) or []}


def make_env(root: Path) -> None:
    """A virtualenv of the project's own that sees workflow's packages."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root / "env")],
        check=True,
        capture_output=True,
    )
    site = next((root / "env" / "lib").glob("python*/site-packages"))
    (site / "workflow_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


@pytest.fixture(scope="module")
def learned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project after its first run, which ran every test and learned them."""
    root = tmp_path_factory.mktemp("select") / "project"
    write(
        root,
        {
            "src/pkg/__init__.py": "from pkg.core import Parser, add, mul\n",
            "src/pkg/core.py": CORE,
            "src/pkg/__main__.py": MAIN,
            "src/pkg/plug.py": PLUGIN,
            "tests/conftest.py": CONFTEST,
            "tests/test_core.py": TESTS,
            "tests/data/x.json": '{"a": 1}\n',
            "pyproject.toml": '[tool.pytest.ini_options]\npythonpath = ["src"]\n',
            "workflow.toml": WORKFLOW,
            "README.md": "# pkg\n",
            ".gitignore": ".workflow/\nenv/\n__pycache__/\n",
        },
    )
    make_env(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    code, stage = run(root, "--no-cache")
    assert code == 0, stage["stdout"]
    selection = stage["tests"]["selection"]
    assert selection["reason"] == (
        "everything runs: no usable map yet: no complete run of this stage has been learned"
    )
    assert ran(stage) == ALL
    return root


@pytest.fixture
def project(learned: Path, tmp_path: Path) -> Path:
    """A copy of the learned project (its repository, history and environment)."""
    copy = tmp_path / "project"
    shutil.copytree(learned, copy, symlinks=True)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_an_unchanged_project_runs_no_test_and_passes(project: Path) -> None:
    code, stage = run(project, "--no-cache")
    assert code == 0
    assert ran(stage) == set()
    assert stage["tests"]["total"] == len(ALL)
    assert stage["tests"]["selection"]["reason"] == "nothing a known test depends on changed"
    assert f"unit: ran 0 of {len(ALL)} tests" in stage["stdout"]


def test_a_function_edit_runs_the_tests_that_ran_it_even_in_a_subprocess(project: Path) -> None:
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    code, stage = run(project, "--no-cache")
    assert code == 0
    assert ran(stage) == {"tests/test_core.py::test_mul", "tests/test_core.py::test_cli"}
    selection = stage["tests"]["selection"]
    assert selection["selected"] == 2 and selection["total"] == len(ALL)
    assert selection["reason"] == "changed: src/pkg/core.py: mul"
    assert f"unit: ran 2 of {len(ALL)} tests (changed: src/pkg/core.py: mul)" in stage["stdout"]


def test_a_module_fixture_and_a_data_file_count_for_their_tests(project: Path) -> None:
    edit(project / "src/pkg/core.py", "return a + b", "return b + a")
    (project / "tests/data/x.json").write_text('{"a": 2}\n')
    code, stage = run(project, "--no-cache")
    assert code == 1  # the data file's test now fails, as it should
    assert ran(stage) == {
        "tests/test_core.py::test_add",
        "tests/test_core.py::test_base",  # its module fixture ran add()
        "tests/test_core.py::test_load",
    }


def test_a_new_test_file_runs_its_own_tests_only(project: Path) -> None:
    write(project, {"tests/test_new.py": "def test_new():\n    assert True\n"})
    code, stage = run(project, "--no-cache")
    assert code == 0
    assert ran(stage) == {"tests/test_new.py::test_new"}
    assert stage["tests"]["total"] == len(ALL) + 1


def install_fake(root: Path) -> None:
    """A distribution appears in the stage's environment (as pip would leave it)."""
    site = next((root / "env" / "lib").glob("python*/site-packages"))
    metadata = site / "fake-1.0.dist-info" / "METADATA"
    metadata.parent.mkdir()
    metadata.write_text("Metadata-Version: 2.1\nName: fake\nVersion: 1.0\n")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda p: (p / "README.md").write_text("# pkg, renamed\n"),
            "a file that no test is known to read changed: README.md",
        ),
        (
            lambda p: edit(p / "tests/conftest.py", "add(1, 1)", "add(2, 0)"),
            "a conftest.py changed: tests/conftest.py",
        ),
        (
            lambda p: edit(p / "pyproject.toml", '["src"]', '["src"]\nmarkers = ["slow"]'),
            "pytest's configuration changed",
        ),
        (
            lambda p: edit(
                p / "workflow.toml", 'select = "affected"', 'select = "affected"\ntimeout = 600'
            ),
            "workflow's configuration changed",
        ),
        (
            lambda p: write(p, {"src/pkg/extra.py": "X = 1\n"}),
            "a new Python module that no test is known to import: src/pkg/extra.py",
        ),
        (install_fake, "fake was installed (1.0)"),
        (
            lambda p: edit(p / "src/pkg/plug.py", "its own plugin", "its plugin"),
            "a pytest plugin changed: src/pkg/plug.py",
        ),
    ],
    ids=[
        "unread-file",
        "conftest",
        "pytest-config",
        "workflow-config",
        "new-module",
        "distribution",
        "plugin",
    ],
)
def test_a_change_the_map_cannot_place_runs_everything(
    project: Path, change: Any, reason: str
) -> None:
    change(project)
    code, stage = run(project, "--no-cache")
    assert ran(stage) == ALL
    assert stage["tests"]["selection"]["reason"] == f"everything runs: {reason}"
    assert code == 0


def test_shadow_runs_everything_and_records_an_escape(project: Path) -> None:
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    code, stage = run(
        project,
        "--no-cache",
        "--select",
        "shadow",
        env={"PKG_MODE": "broken", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": ""},
    )
    assert code == 1
    assert ran(stage) == ALL
    selection = stage["tests"]["selection"]
    assert selection["mode"] == "shadow"
    assert selection["selected"] == 2  # affected would have run test_mul and test_cli
    assert selection["escapes"] == ["tests/test_core.py::test_env"]
    assert "escaped test selection" in stage["stdout"]  # the warning annotation
    report = (Path(stage["run_dir"]) / "report.md").read_text()
    assert "escapes" in report and "tests/test_core.py::test_env" in report


def test_select_all_runs_everything_and_a_selected_pass_is_cached_as_selected(
    project: Path,
) -> None:
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    code, first = run(project)  # the cache is on: this selected pass is stored
    assert code == 0 and ran(first) == {
        "tests/test_core.py::test_mul",
        "tests/test_core.py::test_cli",
    }
    code, everything = run(project, "--select", "all")
    assert code == 0
    assert everything["cache"]["hit"] is False  # a selected pass is not a pass of every test
    assert ran(everything) == ALL
    assert everything["tests"]["selection"]["reason"] == "everything runs: --select all"
    code, again = run(project)
    assert (
        again["cache"]["hit"] is True and again["cache"]["from_run"] == Path(first["run_dir"]).name
    )


def test_dry_run_and_explain_name_the_changed_piece(project: Path) -> None:
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    clean = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
    dry = workflow(project, "run", "--lane", "standard", "--dry-run", env=clean)
    assert dry.returncode == 0, dry.stderr
    assert "select affected: would run 2 of 7 known tests, and any new ones" in dry.stdout
    assert "tests/test_core.py::test_mul: src/pkg/core.py: mul changed" in dry.stdout
    skipped = workflow(project, "select", "explain", "unit", "tests/test_core.py::test_add")
    assert "would be skipped: it passed in run" in skipped.stdout
    assert "  src/pkg/core.py: add" in skipped.stdout
    runs = workflow(project, "select", "explain", "unit", "tests/test_core.py::test_mul")
    assert runs.stdout.splitlines()[0] == (
        "tests/test_core.py::test_mul: would run: src/pkg/core.py: mul changed"
    )
    unknown = workflow(project, "select", "explain", "lint")
    assert unknown.returncode == 2 and "no stage named 'lint'" in unknown.stderr


def test_a_split_stage_learns_from_its_parts_and_selects_across_them(project: Path) -> None:
    edit(project / "workflow.toml", 'select = "affected"', 'select = "affected"\nsplit = 2')
    code, learning = run(project, "--no-cache")  # the configuration changed: all, learned
    assert code == 0 and ran(learning) == ALL and len(learning["parts"]) == 2
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    code, stage = run(project, "--no-cache")
    assert code == 0
    assert ran(stage) == {"tests/test_core.py::test_mul", "tests/test_core.py::test_cli"}
    assert sum(part["tests"] for part in stage["parts"]) == 2
    assert stage["tests"]["total"] == len(ALL)


def test_shards_of_a_split_stage_select_and_their_learning_merges_into_one_map(
    project: Path, tmp_path: Path
) -> None:
    edit(project / "workflow.toml", 'select = "affected"', 'select = "affected"\nsplit = 2')
    code, _ = run(project, "--no-cache")  # learns through two parts, records their times
    assert code == 0
    edit(project / "src/pkg/core.py", "return a * b", "return b * a")
    clean = {k: v for k, v in os.environ.items() if k not in INNER_ENV}
    planned = workflow(project, "shard", "plan", "--shards", "2", "--lane", "standard", "--json")
    assert planned.returncode == 0, planned.stderr
    plan = tmp_path / "plan.json"  # outside the project: not one of its inputs
    plan.write_text(planned.stdout)
    shards = []
    for entry in json.loads(planned.stdout)["include"]:
        out = tmp_path / "shards" / entry["shard"].replace("/", "-")
        args = ("--shard", entry["shard"], "--plan", str(plan), "--report-dir", str(out))
        done = workflow(project, "run", "--lane", "standard", "--no-cache", *args, env=clean)
        assert done.returncode == 0, done.stdout + done.stderr
        shards += [str(path) for path in out.iterdir()]
    merged = workflow(project, "merge", *shards, env=clean)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    records = sorted((project / ".workflow" / "reports").glob("*/run.json"))
    unit = json.loads(records[-1].read_text())["stages"][0]
    assert unit["tests"]["selection"]["selected"] == 2
    assert unit["tests"]["selection"]["reason"] == "changed: src/pkg/core.py: mul"
    # Both shards' learning reached the map: nothing is left to run.
    code, after = run(project, "--no-cache")
    assert code == 0 and ran(after) == set()


def test_nothing_is_learned_from_a_run_whose_inputs_changed_while_it_ran(project: Path) -> None:
    # test_add runs (its body changed) and passes; then a later test edits that body
    # again. Recording test_add as passed against what is on disk now would skip it
    # next time, though it never ran that code: the run learns nothing instead. (The
    # stage fails too: it changed a source file, pipeline/sourceguard.py.)
    edit(project / "src/pkg/core.py", "return a + b", "return b + a")
    write(
        project,
        {
            "tests/test_zz_edits.py": (
                "from pathlib import Path\n\n\n"
                "def test_edits_the_source():\n"
                '    core = Path("src/pkg/core.py")\n'
                '    core.write_text(core.read_text().replace("return b + a", "return a - -b"))\n'
            )
        },
    )
    code, stage = run(project, "--no-cache")
    assert code == 1
    assert [edit["path"] for edit in stage["changed_files"]] == ["src/pkg/core.py"]
    assert "tests/test_core.py::test_add" in ran(stage)
    code, again = run(project, "--no-cache")
    assert "tests/test_core.py::test_add" in ran(again)


def test_a_selected_test_that_only_passes_on_a_rerun_is_flaky_and_runs_again(
    project: Path,
) -> None:
    edit(project / "workflow.toml", 'select = "affected"', 'select = "affected"\nrerun_failed = 1')
    write(
        project,
        {
            "tests/test_flaky.py": (
                "from pathlib import Path\n\nfrom pkg.core import mul\n\n\n"
                "def test_flaky(tmp_path_factory):\n"
                '    mark = Path(__file__).parent / ".failed-once"\n'
                "    if not mark.exists():\n"
                '        mark.write_text("")\n'
                "        raise AssertionError('first time')\n"
                "    assert mul(1, 1) == 1\n"
            ),
            ".gitignore": ".workflow/\nenv/\n__pycache__/\n.failed-once\n",
        },
    )
    code, stage = run(project, "--no-cache")  # the configuration changed: everything runs
    assert code == 0
    assert stage["tests"]["flaky"] == ["tests/test_flaky.py::test_flaky"]
    code, again = run(project, "--no-cache")
    assert code == 0
    assert ran(again) == {"tests/test_flaky.py::test_flaky"}  # it failed once: it runs
    assert again["tests"]["selection"]["reason"] == (
        "nothing a known test depends on changed; 1 test failed last time"
    )
