"""`workflow cache audit STAGE`: the stage runs once while its reads are recorded, and
every file of the repository it read outside its key is named, with the `inputs` line
that adds it.

Real git repositories, the real `workflow` command, a real pytest (seen through the
audit hook of workflow's `sitecustomize`) and a real ruff (a native program: seen only
through strace, or named as unseen without it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.cache_repo import git
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PYTEST = ["pytest", "-q", "-p", "no:cacheprovider"]
READS_LIMIT = (
    "from pathlib import Path\n\n\ndef test_limit():\n"
    "    assert Path('../../shared/limit.txt').read_text() == '3\\n'\n"
)


def monorepo(root: Path, service_config: str) -> Path:
    """The first situation's layout: a service with its own workflow.toml, pytest's
    configuration in the root's pyproject.toml, and a data file in shared/."""
    files = {
        ".gitignore": ".workflow/\n__pycache__/\n",
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-q"\n',
        "shared/limit.txt": "3\n",
        "services/api/tests/test_limit.py": READS_LIMIT,
        "services/api/workflow.toml": service_config,
    }
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    return root / "services" / "api"


def unit_config(extra: str = "") -> str:
    run = json.dumps([*PYTEST, "tests"])
    return f'[workflow]\nhistory = ""\n\n[stages.unit]\nrun = {run}\n{extra}'


def test_the_audit_names_what_the_key_misses_and_how_to_add_it(tmp_path: Path) -> None:
    service = monorepo(tmp_path / "mono", unit_config('inputs = ["tests/**"]\n'))
    audit = workflow(service, "cache", "audit", "unit")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    # The root's pyproject.toml (pytest's configuration) was read, and is in the key.
    assert "outside its directory (configuration above it): pyproject.toml" in audit.stdout
    # shared/limit.txt was read and is not: named, with the line that adds it.
    assert "shared/limit.txt (outside the stage's directory)" in audit.stdout
    suggested = 'inputs = ["tests/**", "//shared/limit.txt"]'
    assert suggested in audit.stdout, audit.stdout

    (service / "workflow.toml").write_text(unit_config(suggested + "\n"))
    again = workflow(service, "cache", "audit", "unit")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing is missing" in again.stdout


def test_a_file_git_ignores_is_named_and_an_inputs_line_keys_it(tmp_path: Path) -> None:
    service = monorepo(tmp_path / "mono", unit_config())
    (service / "tests" / "test_local.py").write_text(
        "from pathlib import Path\n\n\ndef test_local():\n"
        "    assert Path('local.cfg').read_text() == 'on\\n'\n"
    )
    (service / "local.cfg").write_text("on\n")
    (service / ".gitignore").write_text("local.cfg\n")
    audit = workflow(service, "cache", "audit", "unit")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert "services/api/local.cfg (git ignores it)" in audit.stdout
    line = 'inputs = ["**", "/local.cfg", "//shared/limit.txt"]'
    assert line in audit.stdout, audit.stdout

    (service / "workflow.toml").write_text(unit_config(line + "\n"))
    assert workflow(service, "cache", "audit", "unit").returncode == 0
    assert workflow(service, "run", "--lane", "heavy").returncode == 0
    (service / "local.cfg").write_text("off\n")  # ignored by git, named by `inputs`: keyed
    changed = workflow(service, "run", "--lane", "heavy")
    assert changed.returncode == 1, changed.stdout


def ruff_service(root: Path) -> Path:
    config = '[workflow]\nhistory = ""\n\n[stages.lint]\nrun = ["ruff", "check", "."]\n'
    service = monorepo(root, config)
    (service / "ruff.toml").write_text('extend = "../../shared/ruff-base.toml"\n')
    (root / "shared" / "ruff-base.toml").write_text("line-length = 100\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ruff")
    return service


def test_strace_sees_what_a_native_tool_reads(tmp_path: Path) -> None:
    assert shutil.which("strace"), "strace is installed with the test dependencies (.ci/run)"
    service = ruff_service(tmp_path / "mono")
    audit = workflow(service, "cache", "audit", "lint")
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert "shared/ruff-base.toml (outside the stage's directory)" in audit.stdout
    assert 'inputs = ["**", "//shared/ruff-base.toml"]' in audit.stdout


def test_without_strace_the_audit_says_what_it_could_not_see(tmp_path: Path) -> None:
    service = ruff_service(tmp_path / "mono")
    tools = tmp_path / "bin-without-strace"
    tools.mkdir()
    for name in ("git", "sh"):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    audit = workflow(service, "cache", "audit", "lint", env={"PATH": str(tools)})
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert (
        "strace is not installed: only Python processes' reads were seen, "
        "not those of other programs: ruff"
    ) in audit.stdout
