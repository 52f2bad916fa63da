"""A docs-only push checks docs: real git, the real hook, real ruff and pytest."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lanes_repo import (
    Repo,
    push,
    remote_and_clone,
    workflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("isolated_git")]

PROJECT = {
    "src/pkg/__init__.py": "",
    "src/pkg/core.py": "def add(a, b):\n    return a + b\n",
    # A test slower than the docs lane would allow the critical unit stage.
    "tests/test_core.py": (
        "import importlib\nimport sys\nimport time\n\nsys.path.insert(0, 'src')\n\n\n"
        "def test_add():\n    time.sleep(1.5)\n"
        "    assert importlib.import_module('pkg.core').add(1, 2) == 3\n"
    ),
}
CONFIG = f"""[workflow]
history = ""

[stages.lint]
number = 2
run = ["ruff", "check", "--no-fix", "."]

[stages.unit]
number = 4
run = ["pytest", "-q", "-p", "no:cacheprovider", "tests"]

[stages.spelling]
number = 7
run = [{json.dumps(sys.executable)}, "-c", "print('the docs are spelled right')"]
inputs = ["**/*.md"]

[lanes.docs]
sla = {{ unit = 0.5 }}

[sla]
critical = ["unit"]
"""


def pushed_record(output: str) -> dict[str, Any]:
    found = re.search(r"^(?:remote: )?reports: (.+)$", output, re.MULTILINE)
    assert found, output
    data: dict[str, Any] = json.loads((Path(found.group(1).strip()) / "run.json").read_text())
    return data


def hooked(tmp_path: Path, files: dict[str, str]) -> Repo:
    _bare, work = remote_and_clone(tmp_path)
    work.commit(files)
    installed = workflow(work.path, "install-hook")
    assert installed.returncode == 0, installed.stderr
    assert push(work, "origin", "main", WORKFLOW_SKIP="1").returncode == 0
    return work


def test_a_docs_push_with_a_critical_unit_sla_is_allowed_and_checks_docs(tmp_path: Path) -> None:
    work = hooked(tmp_path, {**PROJECT, "workflow.toml": CONFIG})
    work.commit({"docs/guide.md": "A guide.\n", "README.md": "# Better words\n"})
    result = push(work, "origin", "main")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    record = pushed_record(output)
    assert record["lane"] == "docs"
    # lint (stage 2) and the stage whose inputs match a changed file; never the tests.
    assert [stage["name"] for stage in record["stages"]] == ["lint", "spelling"]
    assert all(stage["status"] == "passed" for stage in record["stages"])
    assert "not unit" in output  # the plan says what the docs lane leaves out, and why
    # A code push with the same tests runs them, and the lane's target applies there.
    work.commit({"src/pkg/core.py": "def add(a, b):\n    return b + a\n"})
    code = push(work, "origin", "main")
    record = pushed_record(code.stdout + code.stderr)
    assert record["lane"] == "standard"
    assert {stage["name"] for stage in record["stages"]} == {"lint", "unit", "spelling"}


def test_without_a_configuration_a_docs_push_runs_the_built_in_lint_only(tmp_path: Path) -> None:
    work = hooked(tmp_path, PROJECT)
    work.commit({"README.md": "# Only words\n"})
    result = push(work, "origin", "main")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    record = pushed_record(output)
    assert record["lane"] == "docs"
    assert [stage["name"] for stage in record["stages"]] == ["lint"]
    assert record["stages"][0]["command"].startswith("ruff check --no-fix")
