"""An activated virtualenv wins: workflow installed in one environment (pipx, a tools
venv), the project's own venv activated, the stages get the project's tools.

Real environments: the project's venv is made by `python -m venv` (its `pytest` is a
script of its own, run by its own interpreter); workflow runs from this test's
environment, another one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.command import workflow

SHOW = (
    "import json, os, shutil, sys; print(json.dumps({'prefix': sys.prefix, "
    "'pytest': shutil.which('pytest'), 'virtual_env': os.environ.get('VIRTUAL_ENV')}))"
)


@pytest.fixture(scope="module")
def project_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("project") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pytest_script = venv / "bin" / "pytest"
    pytest_script.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nprint('pytest in', sys.prefix)\n"
    )
    pytest_script.chmod(0o755)
    return venv


def project(tmp_path: Path) -> Path:
    (tmp_path / "workflow.toml").write_text(
        '[workflow]\nhistory = ""\ncache = ""\n'
        f'[stages.python]\nrun = ["python", "-c", {json.dumps(SHOW)}]\n'
        '[stages.tests]\nrun = ["pytest"]\njunit = false\n'
    )
    return tmp_path


def logs(result: subprocess.CompletedProcess[str]) -> Path:
    line = result.stdout.strip().splitlines()[-1]
    return Path(line.removeprefix("reports: ")) / "logs"


def activated(venv: Path, **extra: str) -> dict[str, str]:
    """A shell where `source .venv/bin/activate` ran: VIRTUAL_ENV, its bin first on PATH."""
    path = os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])
    return {"VIRTUAL_ENV": str(venv), "PATH": path, **extra}


def test_the_stages_python_pytest_and_virtual_env_are_the_activated_projects(
    tmp_path: Path, project_venv: Path
) -> None:
    root = project(tmp_path)
    result = workflow(root, "run", "--lane", "standard", env=activated(project_venv))
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads((logs(result) / "python.log").read_text().strip().splitlines()[-1])
    assert Path(found["prefix"]) == project_venv
    assert found["pytest"] == str(project_venv / "bin" / "pytest")
    assert found["virtual_env"] == str(project_venv)
    assert (logs(result) / "tests.log").read_text() == f"pytest in {project_venv}\n"
    plan = workflow(root, "run", "--lane", "standard", "--dry-run", env=activated(project_venv))
    assert f"PATH: added {project_venv / 'bin'} first (the scripts directory of the " in plan.stdout
    assert "python -c" in plan.stdout and f"({project_venv / 'bin' / 'python'})" in plan.stdout


def test_a_virtual_env_that_was_deleted_falls_back_to_workflows_own(tmp_path: Path) -> None:
    root = project(tmp_path)
    gone = tmp_path / "deleted-venv"
    shell = activated(gone)
    result = workflow(root, "run", "--lane", "standard", "--only", "python", env=shell)
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads((logs(result) / "python.log").read_text().strip().splitlines()[-1])
    assert Path(found["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert found["pytest"] == shutil.which("pytest", path=str(Path(sys.executable).parent))
    assert found["virtual_env"] == (sys.prefix if sys.prefix != sys.base_prefix else None)
