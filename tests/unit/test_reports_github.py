"""GitHub Actions annotations and the job summary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import PoolRecord, StageRecord, StageStatus
from orchestrator.model.testresults import Outcome, TestCase, summarize
from reports.github import ANNOTATION_LIMIT, escape_data, publish_github
from reports.markdown import SUMMARY_LIMIT
from sla.verdict import apply_sla
from tests.helpers.reports_samples import HIDDEN, policy, record, sample_run, stage


def publish(run_dir: Path, env: dict[str, str], masker: Masker | None = None) -> list[str]:
    lines: list[str] = []
    publish_github(sample_run(run_dir), run_dir, env, lines.append, masker)
    return lines


def test_nothing_happens_outside_github_actions(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert publish(tmp_path, {"GITHUB_STEP_SUMMARY": str(summary)}) == []
    assert not summary.exists()


def test_failures_are_errors_and_findings_warnings(tmp_path: Path) -> None:
    lines = publish(tmp_path, {"GITHUB_ACTIONS": "true"}, Masker([HIDDEN]))
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert [line.split("::")[1] for line in errors] == [
        "error title=workflow%3A unit failed",
        "error title=workflow%3A integration timeout",
        "error title=workflow%3A unit missed a critical SLA target",
    ]
    assert warnings[0].startswith("::warning title=workflow%3A integration missed its SLA")
    assert any("bottleneck%3A critical path" in line for line in warnings)
    assert warnings[-1].startswith("::warning title=workflow%3A typecheck near its SLA target")
    assert all("\n" not in line for line in lines)  # one command per line, always
    assert not any(HIDDEN in line for line in lines)


def test_a_message_cannot_start_a_workflow_command() -> None:
    assert escape_data("x\n::set-output name=a::b\r%") == "x%0A::set-output name=a::b%0D%25"


def test_at_most_ten_of_each_kind_most_important_first(tmp_path: Path) -> None:
    stages = [
        stage(f"s{i:02d}", 10.0 + i, status=StageStatus.FAILED, exit_code=1) for i in range(15)
    ]
    run = apply_sla(record(*stages, exit_code=1), policy(**{s.name: 5.0 for s in stages}))
    lines: list[str] = []
    publish_github(run, tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == ANNOTATION_LIMIT
    assert len(warnings) == ANNOTATION_LIMIT
    assert "6 more" in errors[-1]
    # The worst overshoot (s14: 24s against 5s) leads the SLA warnings.
    assert warnings[0].startswith("::warning title=workflow%3A s14 missed its SLA target")


def test_the_summary_is_appended_not_overwritten(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    publish(tmp_path, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n\n## ❌ workflow: failed")


def test_the_summary_stays_under_one_mebibyte(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (SUMMARY_LIMIT - 20 * 1024), encoding="utf-8")
    lines = publish(tmp_path, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.stat().st_size < SUMMARY_LIMIT
    assert not any("summary is full" in line for line in lines)


def test_a_full_summary_is_left_alone_with_a_notice(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * (SUMMARY_LIMIT - 1024), encoding="utf-8")
    lines = publish(tmp_path, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.stat().st_size == SUMMARY_LIMIT - 1024
    assert lines[-1].startswith("::notice ") and "summary is full" in lines[-1]


def test_a_passing_run_makes_no_annotations(tmp_path: Path) -> None:
    run = apply_sla(
        record(stage("lint", 1.0), pool=PoolRecord(total_duration_s=1.0)), policy(lint=30)
    )
    lines: list[str] = []
    publish_github(run, tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    assert lines == []


def test_failed_tests_of_several_stages_share_the_ten_errors_of_the_run(tmp_path: Path) -> None:
    def failing(name: str, count: int) -> StageRecord:
        cases = [
            TestCase(f"t/test_{name}.py::test_{i}", Outcome.FAILED, 0.1, f"app/t/test_{name}.py", i)
            for i in range(1, count + 1)
        ]
        flips = (f"t/test_{name}.py::test_1",)
        summary = replace(summarize(cases, flips), rootdir="app")
        return replace(stage(name, 1.0, status=StageStatus.FAILED, exit_code=1), tests=summary)

    run = apply_sla(record(failing("a", 7), failing("b", 6), exit_code=1), policy(a=30, b=30))
    lines: list[str] = []
    publish_github(run, tmp_path, {"GITHUB_ACTIONS": "true"}, lines.append)
    errors = [line for line in lines if line.startswith("::error ")]
    # 2 failed stages and 11 failed tests: 9 shown, then where the other 4 are.
    assert len(errors) == ANNOTATION_LIMIT
    assert errors[-1].startswith("::error title=workflow%3A 4 more errors::GitHub shows 10")
    assert str(tmp_path / "report.html") in errors[-1]
    assert "::error file=app/t/test_a.py,line=2," in "\n".join(errors)
    flaky = [line for line in lines if line.startswith("::warning file=")]
    assert flaky[0].startswith("::warning file=app/t/test_a.py,title=")
