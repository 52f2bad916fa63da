"""Where stage commands come from (engine/toolpath.py): an activated virtualenv wins.

The environments are real directories laid out as `python -m venv` lays them out (a
`pyvenv.cfg`, a `bin/` with its `python`); the integration test runs real ones.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orchestrator.engine.toolpath import scripts_dir, stage_environment, tool_path

OWN = str(scripts_dir())
IN_A_VENV = sys.prefix != sys.base_prefix


def make_venv(root: Path) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text(f"home = {Path(sys.base_prefix) / 'bin'}\n")
    (root / "bin" / "python").symlink_to(sys.executable)
    return root


def test_an_activated_virtualenv_comes_first_and_keeps_its_name(tmp_path: Path) -> None:
    project = make_venv(tmp_path / "project-venv")
    shell = {"VIRTUAL_ENV": str(project), "PATH": f"{project / 'bin'}{os.pathsep}/usr/bin"}
    env = stage_environment(shell)
    assert env["PATH"].split(os.pathsep)[:2] == [str(project / "bin"), OWN]
    assert env["VIRTUAL_ENV"] == str(project)
    lines = tool_path(shell).describe()
    assert lines[0] == (
        f"PATH: added {project / 'bin'} first "
        f"(the scripts directory of the activated virtualenv {project})"
    )
    assert lines[1].startswith(f"PATH: added {OWN} next (the scripts directory of workflow's own")


def test_a_virtualenv_deleted_since_it_was_activated_is_ignored(tmp_path: Path) -> None:
    gone = tmp_path / "deleted-venv"
    shell = {"VIRTUAL_ENV": str(gone), "PATH": f"{gone / 'bin'}{os.pathsep}/usr/bin"}
    env = stage_environment(shell)
    assert env["PATH"].split(os.pathsep)[0] == OWN
    if IN_A_VENV:
        assert env["VIRTUAL_ENV"] == sys.prefix
    else:
        assert "VIRTUAL_ENV" not in env
    assert tool_path(shell).describe()[0] == (
        f"VIRTUAL_ENV: {gone} is not a Python environment (deleted?); ignored"
    )


def test_workflows_own_environment_activated_is_the_plain_case() -> None:
    shell = {"VIRTUAL_ENV": sys.prefix, "PATH": "/usr/bin:/bin"}
    env = stage_environment(shell)
    assert env["PATH"] == os.pathsep.join([OWN, "/usr/bin:/bin"])
    found = tool_path(shell)
    assert found.activated is None
    assert found.added == (OWN,)


def test_a_gui_clients_bare_path_gets_workflows_tools_first() -> None:
    env = stage_environment({"PATH": "/usr/bin:/bin"})
    assert env["PATH"].split(os.pathsep)[0] == OWN
    assert ("VIRTUAL_ENV" in env) is IN_A_VENV


def test_a_path_that_already_leads_with_both_is_left_alone(tmp_path: Path) -> None:
    project = make_venv(tmp_path / "project-venv")
    path = os.pathsep.join([str(project / "bin"), OWN, "/usr/bin"])
    found = tool_path({"VIRTUAL_ENV": str(project), "PATH": path})
    assert found.added == ()
    assert stage_environment({"VIRTUAL_ENV": str(project), "PATH": path})["PATH"] == path
