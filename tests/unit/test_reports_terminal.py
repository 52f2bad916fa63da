"""The end-of-run summary: a rich table on a terminal, plain lines in a pipe."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from orchestrator.model.masking import Masker
from reports.terminal import render_terminal_summary
from tests.helpers.reports_samples import HIDDEN, record, sample_run, stage


def printed(tmp_path: Path, *, terminal: bool, masker: Masker | None = None) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=120, color_system="standard")
    run = replace(sample_run(tmp_path), run_id=HIDDEN)
    render_terminal_summary(run, console, masker)
    return out.getvalue()


def test_plain_text_when_not_a_terminal(tmp_path: Path) -> None:
    text = printed(tmp_path, terminal=False)
    assert "\x1b[" not in text
    lines = text.splitlines()
    assert lines[0].startswith("workflow: failed (exit 1); lane standard, adaptive with 2 workers")
    # The sentences a reader acts on come before the table: what failed, then the time.
    assert lines[1].startswith("Failed: unit (1 test failed: <script>alert(1)</script>), ")
    # integration queued for typecheck's worker: a queue, never worded as a need
    assert (
        "integration (timed out after 30.0s). The run took 56.2s; typecheck, then "
        "integration on the same worker, set it" in lines[1]
    )
    assert lines[2].split() == [
        "#",
        "stage",
        "status",
        "duration",
        "target",
        "SLA",
        "CPU",
        "peak",
        "memory",
    ]
    assert lines[5].split()[:6] == ["4", "unit", "failed", "40.0s", "30s", "critical"]
    assert any(line.startswith("SLA: unit: took 40.0s") for line in lines)
    assert any(line.startswith("bottleneck (saves 12.8s): typecheck ran") for line in lines)


def test_a_table_with_colours_on_a_terminal(tmp_path: Path) -> None:
    text = printed(tmp_path, terminal=True)
    assert "\x1b[" in text
    assert "┃" in text or "│" in text
    assert "integration" in text


def test_stage_text_is_never_read_as_markup() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    render_terminal_summary(record(stage("[bold red]x[/]", 1.0)), console)
    assert "[bold red]x[/]" in out.getvalue()


def test_secrets_are_masked(tmp_path: Path) -> None:
    assert HIDDEN not in printed(tmp_path, terminal=False, masker=Masker([HIDDEN]))
