"""Stage tools come from workflow's own Python environment, whatever PATH it was given.

A GUI git client starts the pre-push hook with `PATH=/usr/bin:/bin`; `.venv/bin/workflow`
is often run from a shell that never activated the venv. Both must find the ruff, pytest
and python installed beside workflow. These tests run the real hook and the real command
with such a PATH and look at what the stages saw.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    Repo,
    init_repo,
    remote_and_clone,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

SCRIPTS = Path(sysconfig.get_path("scripts")).absolute()
SHOW = (
    "import os, shutil, sys; "
    "print(json.dumps({'prefix': sys.prefix, 'pytest': shutil.which('pytest'), "
    "'ruff': shutil.which('ruff'), 'virtual_env': os.environ.get('VIRTUAL_ENV')}))"
)
CHECKS = """\
import json, sys


def interpreter():
    print(json.dumps({"prefix": sys.prefix, "executable": sys.executable}))
"""


def gui_env(**extra: str) -> dict[str, str]:
    """What a GUI git client gives its hooks: a bare PATH, no virtualenv, no CI variables."""
    git_dir = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    path = os.pathsep.join(dict.fromkeys([git_dir, "/usr/bin", "/bin"]))
    keep = ("HOME", "LANG", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME")
    env = {name: os.environ[name] for name in (*keep, "GIT_COMMITTER_EMAIL") if name in os.environ}
    return {
        **env,
        "PATH": path,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    } | extra


def bare_workflow(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This environment's `workflow`, started by absolute path with the GUI client's PATH."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=gui_env(CI="true"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def shown(log: Path) -> dict[str, str | None]:
    data: dict[str, str | None] = json.loads(log.read_text().strip().splitlines()[-1])
    return data


def test_a_gui_push_through_the_installed_hook_finds_the_venvs_tools(tmp_path: Path) -> None:
    bare, work = remote_and_clone(tmp_path)
    config = (
        '[workflow]\nhistory = ""\n'
        '[stages.tools]\nrun = ["ruff", "--version"]\n'
        f'[stages.python]\nrun = ["python", "-c", {json.dumps("import json; " + SHOW)}]\n'
        '[stages.callable]\ncall = "checks:interpreter"\nkind = "cpu"\n'
        '[lanes.standard]\nstrategy = "process"\n'
    )
    work.commit({"workflow.toml": config, "checks.py": CHECKS})
    work.git("push", "-q", "origin", "main")
    installed = bare_workflow(work.path, "install-hook")
    assert installed.returncode == 0, installed.stderr
    work.commit({"src/app.py": "print('from a GUI client')\n"})
    pushed = subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=work.path,
        env=gui_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert pushed.returncode == 0, pushed.stderr
    assert work.git("rev-parse", "main") == Repo(bare).git("rev-parse", "main")
    (logs,) = (work.path / ".workflow" / "reports").glob("*/logs")
    assert "ruff" in (logs / "tools.log").read_text()
    python = shown(logs / "python.log")
    assert Path(python["prefix"] or "").resolve() == Path(sys.prefix).resolve()
    assert python["pytest"] == str(SCRIPTS / "pytest")
    assert python["ruff"] == str(SCRIPTS / "ruff")
    if sys.prefix != sys.base_prefix:
        assert python["virtual_env"] == sys.prefix
    called = shown(logs / "callable.log")
    assert called["prefix"] == sys.prefix
    assert called["executable"] == sys.executable


def test_dry_run_shows_the_added_path_and_each_resolved_tool(tmp_path: Path) -> None:
    own = tmp_path / "own-bin"
    own.mkdir()
    (tmp_path / "workflow.toml").write_text(
        '[stages.unit]\nrun = ["pytest", "-q"]\n'
        '[stages.interpreter]\nrun = ["python3", "-V"]\n'
        f'[stages.mine]\nrun = ["pytest"]\nenv = {{ PATH = "{own}" }}\n'
    )
    result = bare_workflow(tmp_path, "run", "--dry-run", "--lane", "heavy")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "built-in" not in result.stdout + result.stderr
    assert any(line.startswith(f"PATH: added {SCRIPTS} first") for line in lines), lines
    assert f"unit: SLA 60s, cpu (assumed): pytest -q ({SCRIPTS / 'pytest'})" in result.stdout
    assert f"python3 -V ({SCRIPTS / 'python3'})" in result.stdout
    assert "mine: SLA 60s, cpu (assumed): pytest (not found on its own env.PATH)" in result.stdout


def test_a_stages_own_path_replaces_the_added_one(tmp_path: Path) -> None:
    own = tmp_path / "own-bin"
    own.mkdir()
    tool = own / "tool"
    tool.write_text("#!/bin/sh\necho from my own PATH\n")
    tool.chmod(0o755)
    (tmp_path / "workflow.toml").write_text(
        '[workflow]\nhistory = ""\n'
        f'[stages.mine]\nrun = ["tool"]\nenv = {{ PATH = "{own}{os.pathsep}/usr/bin:/bin" }}\n'
        '[stages.ruff]\nrun = ["ruff", "--version"]\nenv = { PATH = "/usr/bin:/bin" }\n'
    )
    result = bare_workflow(tmp_path, "run", "--lane", "heavy", "--format", "json")
    run_dir = Path(result.stdout.strip().splitlines()[-1].removeprefix("reports: "))
    assert (run_dir / "logs" / "mine.log").read_text() == "from my own PATH\n"
    if shutil.which("ruff", path="/usr/bin:/bin") is None:
        # ruff lives only beside workflow: a stage that replaced PATH does not see it
        record = json.loads((run_dir / "run.json").read_text())
        (ruff,) = [stage for stage in record["stages"] if stage["name"] == "ruff"]
        assert ruff["error"] == "command not found: ruff"
        assert result.returncode == 1


def test_without_a_configuration_the_builtin_stages_say_so_and_skip_ignored_trees(
    tmp_path: Path,
) -> None:
    bad = "import os\nassert os, 'never scanned'\nexec(input())  \n"  # ruff and bandit findings
    repo = init_repo(
        tmp_path / "project",
        {
            ".gitignore": "build/\n.workflow/\nout/\n",
            "pkg/__init__.py": '"""A package."""\n',
            "mypy.ini": "[mypy]\nstrict = true\n",
            "Makefile": "typecheck:\n\tmypy pkg\n",
        },
    )
    for tree in (".venv/lib/python3/site-packages", "venv-two", "build", "node_modules/x", "out"):
        (repo.path / tree).mkdir(parents=True)
        (repo.path / tree / "bad.py").write_text(bad)
    (repo.path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo.path / "venv-two" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (repo.path / "venv-two" / "__init__.py").write_text("")
    (repo.path / "out" / "__init__.py").write_text("")
    plan = bare_workflow(repo.path, "run", "--dry-run", "--lane", "heavy")
    assert plan.returncode == 0, plan.stderr
    assert plan.stderr.splitlines()[0] == (
        "workflow: configuration: built-in defaults "
        "(no workflow.toml or [tool.workflow] in pyproject.toml)"
    )
    assert f"mypy pkg ({SCRIPTS / 'mypy'})" in plan.stdout
    assert f"bandit -q -ll -r pkg ({SCRIPTS / 'bandit'})" in plan.stdout
    run = bare_workflow(
        repo.path, "run", "--lane", "heavy", "--only", "lint", "--only", "security", "--no-history"
    )
    assert run.stderr.startswith("workflow: configuration: built-in defaults"), run.stderr
    assert run.returncode == 0, run.stdout + run.stderr
