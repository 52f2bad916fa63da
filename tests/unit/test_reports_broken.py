"""A broken runner shows apart from failed stages in every report (DESIGN "A broken
runner"): the terminal, markdown, HTML, JUnit, GitHub annotations, and the record read back."""

from __future__ import annotations

import io
import json
from pathlib import Path

from orchestrator.model.records import GitRecord, RunRecord, StageStatus, record_from_data
from orchestrator.model.status import WORKTREE
from reports.github import publish_github
from reports.html import render_html
from reports.junit import render_junit
from reports.markdown import render_markdown
from reports.terminal import print_run_summary
from tests.helpers.reports_samples import record, stage
from tests.unit.test_reports_junit import parse_valid

CAUSE = "3 stages could not start: Too many open files (EMFILE)"
LINE = f"runner broken: {CAUSE}"


def broken_run() -> RunRecord:
    fault = "Too many open files (EMFILE)"
    return record(
        stage("lint"),
        stage("unit", status=StageStatus.FAILED, exit_code=1, error="exited with code 1"),
        stage(
            "mypy",
            status=StageStatus.ERROR,
            exit_code=126,
            runner_fault=fault,
            error="cannot start mypy: Too many open files",
        ),
        stage(
            "docs",
            status=StageStatus.CANCELLED,
            runner_fault=CAUSE,
            error=f"not started: runner broken: {CAUSE}",
        ),
        exit_code=5,
        runner_broken=CAUSE,
    )


def test_the_terminal_leads_with_the_broken_runner() -> None:
    out = io.StringIO()
    print_run_summary(broken_run(), stream=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("workflow: runner broken (exit 5)")
    assert lines[1].startswith(LINE + " (retry the job on another runner")
    assert any("mypy" in line and "error (runner's fault)" in line for line in lines)
    assert any("unit" in line and " failed " in line for line in lines)


def test_markdown_and_html_say_it_apart_from_the_failures(tmp_path: Path) -> None:
    text = render_markdown(broken_run(), tmp_path)
    assert text.startswith("## 🛠️ workflow: runner broken")
    assert f"> **{LINE}" in text
    assert "cancelled (runner's fault)" in text
    page = render_html(broken_run(), tmp_path)
    assert 'id="runner-broken"' in page
    assert 'class="badge broken" id="outcome">runner broken<' in page
    assert 'data-runner-fault="Too many open files (EMFILE)"' in page


def test_junit_makes_the_runners_stages_errors_of_their_own_kind(tmp_path: Path) -> None:
    suite = parse_valid(render_junit(broken_run(), tmp_path)).find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["unit"].find("failure") is not None  # the change's own failure stays one
    for name in ("mypy", "docs"):
        error = cases[name].find("error")
        assert error is not None and error.get("type") == "runner broken"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["runner_broken"] == CAUSE
    assert properties["exit_code"] == "5"


def test_github_annotates_the_runner_once_and_only_the_own_failure(tmp_path: Path) -> None:
    lines: list[str] = []
    publish_github(broken_run(), tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    errors = [line for line in lines if line.startswith("::error ")]
    assert errors[0].startswith("::error title=workflow%3A runner broken::runner broken: 3 stages")
    assert [line.split("::")[1] for line in errors[1:]] == ["error title=workflow%3A unit failed"]


def test_the_record_keeps_the_cause_when_read_back() -> None:
    data = json.loads(json.dumps(broken_run().to_dict()))
    again = record_from_data(data)
    assert again.runner_broken == CAUSE
    mypy = again.stage("mypy")
    assert mypy is not None
    assert mypy.runner_fault == "Too many open files (EMFILE)"


def test_reports_say_which_tree_a_pushed_commit_was_checked_in(tmp_path: Path) -> None:
    git = GitRecord(sha="1a2b3c4d5e6f7a8b", branch="feature", tree=WORKTREE)
    run = record(stage("lint"), git=git)
    assert "commit `1a2b3c4d5e6f` (temporary worktree)" in render_markdown(run, tmp_path)
    page = render_html(run, tmp_path)
    assert "(checked in a temporary worktree)" in page
