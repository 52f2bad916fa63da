"""Must-show: stage names are user text; a failure of workflow's own ends every tree.

Real `workflow run` / `workflow validate` processes in tmp_path projects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
LONG_NAME = "x" * 300


def project(tmp_path: Path, stages: dict[str, str]) -> Path:
    lines = ['[workflow]\nhistory = ""\n']
    for name, code in stages.items():
        lines.append(f'[stages."{name}"]\nrun = [{json.dumps(PY)}, "-c", {json.dumps(code)}]\n')
    (tmp_path / "workflow.toml").write_text("\n".join(lines))
    return tmp_path


def the_record(root: Path) -> dict[str, object]:
    (record,) = (root / ".workflow" / "reports").glob("*/run.json")
    data = json.loads(record.read_text())
    assert isinstance(data, dict)
    return data


def stages_of(record: dict[str, object]) -> dict[str, dict[str, object]]:
    stages = record["stages"]
    assert isinstance(stages, list)
    return {str(stage["name"]): stage for stage in stages}


def test_two_names_that_sanitise_alike_keep_their_own_logs(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "unit tests": "print('\\n'.join(['space'] * 50)); raise SystemExit(1)",
            "unit_tests": "print('\\n'.join(['underscore'] * 50))",
        },
    )
    result = workflow(root, "run", "--lane", "standard")
    assert result.returncode == 1, result.stdout + result.stderr
    stages = stages_of(the_record(root))
    run_dir = next((root / ".workflow" / "reports").iterdir())
    spaced = (run_dir / str(stages["unit tests"]["log"])).read_text()
    underscored = (run_dir / str(stages["unit_tests"]["log"])).read_text()
    assert stages["unit tests"]["log"] != stages["unit_tests"]["log"]
    assert set(spaced.split()) == {"space"} and set(underscored.split()) == {"underscore"}
    # The failed stage's tail on the console is its own output only.
    tail = result.stdout.split("--- unit tests: last")[1].split("\n---")[0]
    assert "space" in tail and "underscore" not in tail


def test_a_300_character_name_passes_validate_and_runs(tmp_path: Path) -> None:
    root = project(tmp_path, {LONG_NAME: "print('long')", "other": "print('other')"})
    checked = workflow(root, "validate")
    assert checked.returncode == 0, checked.stderr
    result = workflow(root, "run", "--lane", "standard")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    record = the_record(root)
    assert record["exit_code"] == 0 and record["finished"] is True
    stage = stages_of(record)[LONG_NAME]
    assert stage["status"] == "passed"
    log = next((root / ".workflow" / "reports").iterdir()) / str(stage["log"])
    assert log.read_text() == "long\n"
    assert len(log.name) <= 255


# The one fault injection of the suite: a bug in workflow's own bookkeeping cannot be
# produced from outside, so this run replaces one method of the progress display with one
# that raises when the quick stage ends, while the slow stage is still running.
BROKEN_BOOKKEEPING = """
import sys
from orchestrator.commands import progress
from orchestrator.cli import main

shown = progress.Progress.__call__

def broken(self, event):
    if event.kind == "end" and event.name == "quick":
        raise RuntimeError("bookkeeping broke")
    shown(self, event)

progress.Progress.__call__ = broken
sys.argv = ["workflow", "run", "--lane", "standard"]
main()
"""


def test_an_internal_error_ends_every_tree_and_writes_the_record(tmp_path: Path) -> None:
    pid_file = tmp_path / "slow.pid"
    slow = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(300)"
    quick = f"import os, time\nwhile not os.path.exists({str(pid_file)!r}): time.sleep(0.01)"
    root = project(tmp_path, {"slow": slow, "quick": quick})
    result = subprocess.run(
        [PY, "-c", BROKEN_BOOKKEEPING],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "CI": "true"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1
    assert errors[0].startswith("workflow: internal error: RuntimeError: bookkeeping broke;")
    slow_pid = int(pid_file.read_text())
    assert not psutil.pid_exists(slow_pid)
    record = the_record(root)
    assert record["exit_code"] == 1
    statuses = {name: stage["status"] for name, stage in stages_of(record).items()}
    assert statuses == {"slow": "cancelled", "quick": "passed"}
    run_dir = next((root / ".workflow" / "reports").iterdir())
    assert "bookkeeping broke" in (run_dir / "internal-error.txt").read_text()
