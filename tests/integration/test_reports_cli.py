"""`workflow report RUN.json`, run as a real subprocess on a saved record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.model.records import write_record
from tests.helpers.reports_samples import HIDDEN, sample_run

pytestmark = pytest.mark.integration


def workflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def run_json(tmp_path: Path) -> Path:
    path = tmp_path / "run-1" / "run.json"
    write_record(sample_run(path.parent), path)
    return path


def test_html_is_written_beside_the_record_by_default(run_json: Path) -> None:
    result = workflow("report", str(run_json))
    assert result.returncode == 0, result.stderr
    written = run_json.with_name("report.html")
    assert result.stdout.strip() == str(written)
    assert 'id="timeline"' in written.read_text(encoding="utf-8")


def test_markdown_to_standard_output_with_secrets_of_this_environment_masked(
    run_json: Path,
) -> None:
    result = workflow(
        "report", str(run_json), "--format", "md", "-o", "-", env={"DEPLOY_TOKEN": HIDDEN}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## ❌ workflow: failed")
    assert "using token *** for the API" in result.stdout
    assert HIDDEN not in result.stdout


def test_junit_to_a_chosen_path(run_json: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "results.xml"
    result = workflow("report", str(run_json), "--format", "junit", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8").startswith('<?xml version="1.0"')


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read the run record"),
        ("{not json", "not a JSON run record"),
        ('{"schema": 99}', "unsupported run record schema"),
    ],
)
def test_a_bad_record_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "run.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = workflow("report", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unwritable_output_is_exit_2(run_json: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = workflow("report", str(run_json), "-o", str(blocker / "report.html"))
    assert result.returncode == 2
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_format_is_a_usage_error(run_json: Path) -> None:
    result = workflow("report", str(run_json), "--format", "pdf")
    assert result.returncode == 2
    assert "pdf" in result.stderr
