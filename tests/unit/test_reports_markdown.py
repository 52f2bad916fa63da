"""The markdown report: the facts, escaped, and always under GitHub's 1 MiB summary limit."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.masking import Masker
from orchestrator.model.records import FileEdit, PoolRecord, RunRecord, StageStatus
from reports.markdown import SUMMARY_LIMIT, code, fenced, render_markdown, text
from sla.bottlenecks import attach_bottlenecks
from sla.verdict import apply_sla
from tests.helpers.reports_samples import HIDDEN, SCRIPT, policy, record, sample_run, stage

FENCED = re.compile(r"^(`{3,})text\n.*?^\1$", re.MULTILINE | re.DOTALL)


def outside_fences(markdown: str) -> str:
    return FENCED.sub("", markdown)


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line]


def test_the_report_states_the_facts(tmp_path: Path) -> None:
    md = render_markdown(sample_run(tmp_path), tmp_path, Masker([HIDDEN]))
    assert md.startswith("## ❌ workflow: failed\n")
    assert "**Lane** standard" in md
    assert "- 4 files changed, none of them heavy" in md
    rows = table_rows(md)[1:]
    assert [row.split(" | ")[1] for row in rows] == [
        "lint",
        "typecheck",
        "unit",
        "integration",
        "security",
    ]
    assert "| 4 | unit | ❌ failed | 40.0s | 30s | ❗ critical |" in md
    assert "| 5 | integration | ⏱️ timeout |" in md
    assert "### SLA" in md
    assert "### Bottlenecks" in md
    assert "<details><summary>unit: failed with exit code 1: 1 test failed: &lt;script&gt;" in md


def test_stage_output_cannot_inject_html_or_break_the_table(tmp_path: Path) -> None:
    hostile = "a|b <img src=x onerror=alert(1)> *x* [link](http://example.invalid)"
    run = sample_run(tmp_path)
    run = replace(run, stages=(stage(hostile, 1.0, error=SCRIPT), *run.stages))
    md = render_markdown(run, tmp_path)
    visible = outside_fences(md)
    assert "<img" not in visible
    assert "<script>" not in visible
    assert SCRIPT in md  # only inside the log's code fence, where it is text
    first_row = table_rows(md)[1]
    assert first_row.count(" | ") == 7  # still eight cells: the pipe was escaped
    assert "a\\|b &lt;img" in first_row


def test_log_fences_outgrow_the_backticks_inside() -> None:
    assert fenced("plain") == "```text\nplain\n```"
    assert fenced("has ```` four").startswith("`````text\n")
    assert code("a`b") == "`` a`b ``"
    assert text("*bold* _it_ `x` ~s~") == "\\*bold\\* \\_it\\_ \\`x\\` \\~s\\~"


def many_stages(run_dir: Path, count: int, log_bytes: int) -> RunRecord:
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    line = "E   AssertionError: expected 200, got 500 " + "x" * 60 + "\n"
    stages = []
    for i in range(count):
        name = f"stage-{i:03d}"
        (logs / f"{name}.log").write_text(line * (log_bytes // len(line)))
        status = StageStatus.FAILED if i % 2 else StageStatus.PASSED
        stages.append(
            stage(
                name,
                10.0 + i,
                number=i,
                status=status,
                start_offset_s=float(i),
                worker=f"w{i % 8}",
                log=f"logs/{name}.log",
                error="assertion failed",
            )
        )
    run = record(*stages, workers=8, exit_code=1, pool=PoolRecord(total_duration_s=400.0))
    judged = apply_sla(run, policy(**{s.name: 60.0 for s in stages}))
    return attach_bottlenecks(judged, replay_record(judged))


def test_a_200_stage_run_stays_under_the_summary_limit(tmp_path: Path) -> None:
    md = render_markdown(many_stages(tmp_path, 200, 64 * 1024), tmp_path)
    size = len(md.encode("utf-8"))
    assert size < SUMMARY_LIMIT
    assert len(table_rows(md)) == 201  # every stage still listed
    assert "### Failed stages" in md


def test_when_even_the_table_is_too_big_it_is_cut_with_a_note(tmp_path: Path) -> None:
    md = render_markdown(many_stages(tmp_path, 200, 1024), tmp_path, max_bytes=8 * 1024)
    assert len(md.encode("utf-8")) <= 8 * 1024
    assert "more stages are in report.html" in md
    assert "### Failed stages" not in md  # log tails go first


@settings(max_examples=25)
@given(st.integers(min_value=200, max_value=40_000))
def test_any_byte_budget_is_respected(max_bytes: int) -> None:
    stages = [stage(f"s{i}", 1.0 + i, number=i) for i in range(120)]
    run = apply_sla(record(*stages), policy(**{s.name: 60.0 for s in stages}))
    md = render_markdown(run, Path("no-such-run-dir"), max_bytes=max_bytes)
    assert len(md.encode("utf-8")) <= max_bytes


def test_a_masked_token_never_appears(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    run = replace(run, lane_reasons=(f"token {HIDDEN}",), run_id=HIDDEN)
    md = render_markdown(run, tmp_path, Masker([HIDDEN]))
    assert HIDDEN not in md
    assert "***" in md


def test_a_passing_run_says_so_briefly() -> None:
    md = render_markdown(apply_sla(record(stage("lint", 1.0)), policy(lint=30)), Path())
    assert md.startswith("## ✅ workflow: passed")
    assert "Failed stages" not in md


def test_a_failed_run_leads_with_its_failures(tmp_path: Path) -> None:
    md = render_markdown(sample_run(tmp_path), tmp_path, Masker([HIDDEN]))
    assert "\n**Failed: unit (" in md
    assert md.index("### Failed stages") < md.index("| # | Stage |") < md.index("### SLA")
    passing = record(stage("lint", 1.0), stage("unit", 2.0))
    md = render_markdown(passing, tmp_path)
    assert "### Failed stages" not in md and "Failed:" not in md


def test_files_a_stage_wrote_are_listed(tmp_path: Path) -> None:
    wrote = (
        FileEdit(path="gen/api.py", change="modified"),
        FileEdit(path="new.txt", change="added"),
    )
    run = record(stage("generate", 1.0, changed_files=wrote), stage("unit", 2.0))
    md = render_markdown(run, tmp_path)
    assert "### Files the stages changed" in md
    assert "- `generate`: `gen/api.py` (modified), `new.txt` (added)" in md
