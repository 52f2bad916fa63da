"""Must-show: a destination that cannot be written never costs a result.

Real `workflow run` processes. Unwritable places, none of which exists before the test
(so nothing outside tmp_path is changed): /dev/full (ENOSPC), a path through a regular file
(ENOTDIR), a 300-byte name (ENAMETOOLONG), a missing parent (ENOENT), and a new file under
/sys, which the kernel refuses even to root (EACCES; chmod cannot deny root here).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = sys.executable
KINDS = ("ENOSPC", "ENOTDIR", "ENAMETOOLONG", "ENOENT", "EACCES")
WORDS = {
    "ENOSPC": "No space left on device",
    "ENOTDIR": "Not a directory",
    "ENAMETOOLONG": "File name too long",
    "ENOENT": "No such file or directory",
    "EACCES": "Permission denied",
}


def unwritable(tmp_path: Path, kind: str) -> Path:
    regular = tmp_path / "regular-file"
    regular.write_text("x")
    return {
        "ENOSPC": Path("/dev/full"),
        "ENOTDIR": regular / "summary.md",
        "ENAMETOOLONG": tmp_path / ("n" * 300),
        "ENOENT": tmp_path / "missing" / "summary.md",
        "EACCES": Path("/sys/workflow-test-never-created.md"),
    }[kind]


def project(tmp_path: Path, stages: dict[str, str]) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    lines = ['[workflow]\nhistory = "state/history.db"\n']
    for name, code in stages.items():
        lines.append(f'[stages."{name}"]\nrun = [{json.dumps(PY)}, "-c", {json.dumps(code)}]\n')
    (root / "workflow.toml").write_text("\n".join(lines))
    return root


def recorded_runs(root: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(root / "state" / "history.db") as connection:
        rows = connection.execute("SELECT run_id, exit_code FROM runs").fetchall()
    return [(str(run_id), int(code)) for run_id, code in rows]


def warnings_of(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("workflow: warning:")]


@pytest.mark.parametrize("kind", KINDS)
def test_an_unwritable_job_summary_is_one_warning_and_the_run_is_recorded(
    tmp_path: Path, kind: str
) -> None:
    summary = unwritable(tmp_path, kind)
    root = project(tmp_path, {"lint": "print('fine')"})
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    result = workflow(root, "run", "--lane", "standard", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "workflow: passed" in result.stdout
    assert warnings_of(result.stderr) == [
        f"workflow: warning: job summary ($GITHUB_STEP_SUMMARY) not written to {summary}: "
        f"{WORDS[kind]}."
    ]
    assert len(recorded_runs(root)) == 1
    assert result.stdout.rstrip().splitlines()[-1].startswith("reports: ")


@pytest.mark.parametrize("kind", ["ENOTDIR", "ENAMETOOLONG", "EACCES"])
def test_a_reports_directory_that_cannot_be_made_is_a_usage_error(
    tmp_path: Path, kind: str
) -> None:
    target = unwritable(tmp_path, kind) / "reports"
    marker = tmp_path / "stage-ran"
    root = project(tmp_path, {"lint": f"open({str(marker)!r}, 'w')"})
    result = workflow(root, "run", "--lane", "standard", "--report-dir", str(target))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"workflow: --report-dir: {target}: cannot create the reports")
    assert not marker.exists()
    assert not (root / "state" / "history.db").exists()


# The stage turns run.json and two reports of its own run into directories: every later
# write of them fails (EISDIR), and it exits 3 so the run's own code is 1.
SABOTEUR = """
import glob, os, shutil
run_dir = glob.glob('.workflow/reports/*/')[0]
for name in ('run.json', 'report.html', 'report.md'):
    path = os.path.join(run_dir, name)
    if os.path.isfile(path):
        os.remove(path)
    os.makedirs(path, exist_ok=True)
raise SystemExit(3)
"""


def test_unwritable_record_and_reports_keep_the_exit_code_and_what_follows(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, {"saboteur": SABOTEUR})
    result = workflow(root, "run", "--lane", "standard")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    run_dir = next((root / ".workflow" / "reports").iterdir())
    warned = warnings_of(result.stderr)
    assert warned == [
        f"workflow: warning: run.json not written to {run_dir / 'run.json'}: Is a directory.",
        f"workflow: warning: report not written to {run_dir / 'report.html'}: Is a directory.",
        f"workflow: warning: report not written to {run_dir / 'report.md'}: Is a directory.",
    ]
    assert (run_dir / "junit.xml").is_file()  # the report after them was still written
    assert [code for _, code in recorded_runs(root)] == [1]


# The first stage replaces the logs directory with a file; the second (which needs the
# first) cannot have a log at all, and still runs and passes.
BREAK_LOGS = """
import glob, os, shutil
logs = glob.glob('.workflow/reports/*/logs')[0]
shutil.rmtree(logs)
open(logs, 'w').close()
"""


def test_a_stage_whose_log_cannot_be_created_still_runs(tmp_path: Path) -> None:
    marker = tmp_path / "second-ran"
    root = project(
        tmp_path,
        {"first": BREAK_LOGS, "second": f"open({str(marker)!r}, 'w'); print('x' * 200000)"},
    )
    with (root / "workflow.toml").open("a") as config:
        config.write('needs = ["first"]\n')
    result = workflow(root, "run", "--lane", "standard")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert marker.exists()
    run_dir = next((root / ".workflow" / "reports").iterdir())
    assert warnings_of(result.stderr) == [
        f"workflow: warning: log not written to {run_dir / 'logs' / 'second.log'}: Not a directory."
    ]
    assert [code for _, code in recorded_runs(root)] == [0]


def test_profile_rounds_whose_logs_cannot_be_written_still_measure(tmp_path: Path) -> None:
    root = project(tmp_path, {"lint": "print('fine')"})
    (root / "regular-file").write_text("x")
    config = (root / "workflow.toml").read_text()
    (root / "workflow.toml").write_text(
        config.replace("[workflow]\n", '[workflow]\nreports = "regular-file/reports"\n')
    )
    result = workflow(root, "profile", "--iterations", "1")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    log = root / "regular-file" / "reports" / "profile" / "logs" / "lint.log"
    assert warnings_of(result.stderr) == [
        f"workflow: warning: log not written to {log}: Not a directory."
    ]
    assert "recommended strategy" in result.stdout


@pytest.mark.parametrize(
    ("kind", "words"), [("ENOTDIR", "Not a directory"), ("EACCES", "Operation not permitted")]
)
def test_a_template_cache_that_cannot_be_kept_is_one_warning(
    tmp_path: Path, kind: str, words: str
) -> None:
    cache_home = unwritable(tmp_path, kind)
    root = project(tmp_path, {"lint": "print('fine')"})
    result = workflow(root, "run", "--lane", "standard", env={"XDG_CACHE_HOME": str(cache_home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert warnings_of(result.stderr) == [
        f"workflow: warning: template cache not written to "
        f"{cache_home / 'workflow' / 'templates'}: {words}."
    ]
    (report,) = (root / ".workflow" / "reports").glob("*/report.html")
    assert "lint" in report.read_text()
