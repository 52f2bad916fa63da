"""Split parts under what real suites load: every test runs once, in its own part's temp.

pytest-randomly (installed for real, from the dev extra) shuffles each part's tests with a
seed of its own; `xdist_group` marks tie tests of two files together; `addopts` pins one
`--basetemp` for every process; one stage runs pytest-xdist workers (`-n 2`) inside each
part; another has ids made from each process's pid, so its parts collect different tests.
Each inner test notes its node id, its process, its part and its temporary base
directory, so the assertions are about what workflow decided (which part ran what, with
which `--basetemp`), never about timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

CONFTEST = """
import os
from pathlib import Path

import pytest

PINNED = {pinned!r}


@pytest.fixture(autouse=True)
def _note(request, tmp_path_factory):
    out = Path(__file__).parent / "ran" / os.environ["WORKFLOW_STAGE"]
    out.mkdir(parents=True, exist_ok=True)
    base = tmp_path_factory.getbasetemp()
    (base / "mine").write_text("kept")  # what a part sharing the base would delete
    shuffled = str(request.config.pluginmanager.hasplugin("randomly"))
    fields = [request.node.nodeid, str(os.getpid()), os.environ["WORKFLOW_PART"], str(base)]
    line = "\\t".join([*fields, shuffled])
    with open(out / f"{{os.getpid()}}.txt", "a") as notes:
        notes.write(line + "\\n")
    yield
    assert (base / "mine").read_text() == "kept"
"""
FILE = """
import pytest

{marks}
@pytest.mark.parametrize("n", range(4))
def test_case(n):
    pass


@pytest.mark.xdist_group("db")
def test_db_{name}():
    pass
"""
UNSTABLE = """
import os

import pytest


@pytest.mark.parametrize("pid", [os.getpid()])
def test_pid(pid):
    pass


def test_plain():
    pass
"""


def notes(root: Path, stage: str) -> list[list[str]]:
    return [
        line.split("\t")
        for file in sorted((root / "suite" / "ran" / stage).glob("*.txt"))
        for line in file.read_text().splitlines()
    ]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("split-truth")
    pinned = tmp_path_factory.mktemp("pinned-basetemp")
    suite = root / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text(f"[pytest]\naddopts = --basetemp={pinned}\n")
    (suite / "conftest.py").write_text(CONFTEST.format(pinned=str(pinned)))
    for name in ("alpha", "beta", "gamma", "delta"):
        (suite / f"test_{name}.py").write_text(FILE.format(marks="", name=name))
    (root / "unstable").mkdir()
    (root / "unstable" / "test_unstable.py").write_text(UNSTABLE)
    (root / "unstable" / "pytest.ini").write_text("[pytest]\n")
    stages = {
        "shuffled": ("python -m pytest -q -p no:cacheprovider .", "suite"),
        "workers": ("python -m pytest -q -p no:cacheprovider -p no:randomly -n 2 .", "suite"),
        "unstable": ("python -m pytest -q -p no:cacheprovider .", "unstable"),
    }
    (root / "workflow.toml").write_text(
        "".join(
            f'[stages.{name}]\nrun = {json.dumps(command)}\ncwd = "{cwd}"\nsplit = 2\n'
            for name, (command, cwd) in stages.items()
        )
    )
    # The notes are the tests' output, not sources: ignored, as a real suite's would be.
    (root / ".gitignore").write_text("ran/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    # pytest-randomly on, as a user who installed it has it (the suite turns it off).
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--lane", "heavy", "--no-history"],
        cwd=root,
        env={**env, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the unstable stage fails
    record = json.loads(next((root / ".workflow" / "reports").glob("*/run.json")).read_text())
    return root, {stage["name"]: stage for stage in record["stages"]}


@pytest.mark.parametrize("stage", ["shuffled", "workers"])
def test_every_test_runs_in_exactly_one_part(ran: tuple[Path, dict[str, Any]], stage: str) -> None:
    root, stages = ran
    assert stages[stage]["status"] == "passed", stages[stage]["error"]
    counts = Counter(nodeid for nodeid, *_ in notes(root, stage))
    assert len(counts) == 4 * 5  # four files of five tests
    assert set(counts.values()) == {1}
    parts = stages[stage]["parts"]
    assert [part["part"] for part in parts] == ["1/2", "2/2"]
    assert sum(part["tests"] for part in parts) == 20
    assert {part["collected"] for part in parts} == {20}
    assert len({part["collection"] for part in parts}) == 1


def test_one_stage_ran_shuffled_by_pytest_randomly_and_one_did_not(
    ran: tuple[Path, dict[str, Any]],
) -> None:
    root, _ = ran
    assert {shuffled for *_, shuffled in notes(root, "shuffled")} == {"True"}
    assert {shuffled for *_, shuffled in notes(root, "workers")} == {"False"}
    assert {part for _, _, part, _, _ in notes(root, "shuffled")} == {"1", "2"}


@pytest.mark.parametrize("stage", ["shuffled", "workers"])
def test_grouped_tests_share_a_part(ran: tuple[Path, dict[str, Any]], stage: str) -> None:
    root, _ = ran
    parts = {part for nodeid, _, part, _, _ in notes(root, stage) if "::test_db_" in nodeid}
    assert len(parts) == 1


@pytest.mark.parametrize("stage", ["shuffled", "workers"])
def test_each_part_has_its_own_basetemp_whatever_addopts_pins(
    ran: tuple[Path, dict[str, Any]], stage: str
) -> None:
    root, _ = ran
    bases: dict[str, set[Path]] = {}
    for _, _, part, base, _ in notes(root, stage):
        # Under xdist each worker has a directory of its own inside its part's base.
        path = Path(base)
        bases.setdefault(part, set()).add(path.parent if path.name.startswith("popen-") else path)
    assert set(bases) == {"1", "2"}
    assert all(len(found) == 1 for found in bases.values())
    (first,), (second,) = bases.values()
    assert first != second
    pinned = (root.parent / "pinned-basetemp0").resolve()
    assert pinned not in {first.resolve(), second.resolve()}
    assert not first.exists() and not second.exists()  # a passed part's are removed


def test_parts_that_collect_different_tests_fail_the_stage(
    ran: tuple[Path, dict[str, Any]],
) -> None:
    _, stages = ran
    stage = stages["unstable"]
    assert stage["status"] == "failed"
    assert stage["error"].startswith("the parts collected different tests")
    assert len({part["collection"] for part in stage["parts"]}) == 2
