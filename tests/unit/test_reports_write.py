"""Writing the reports of a run, and the promise that no report carries a masked secret."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.model.masking import Masker
from reports import FILE_NAMES, RENDERERS, write_reports
from tests.helpers.reports_samples import HIDDEN, sample_run


def test_each_asked_for_report_is_written_except_the_engines_run_json(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    written = write_reports(run, tmp_path, ["html", "md", "json", "junit", "md"])
    assert [p.name for p in written] == ["report.html", "report.md", "junit.xml"]
    assert not (tmp_path / "run.json").exists()
    assert all(p.stat().st_size > 0 for p in written)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_an_unknown_format_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pdf"):
        write_reports(sample_run(tmp_path), tmp_path, ["html", "pdf"])
    assert not (tmp_path / "report.html").exists()


def test_rewriting_replaces_the_report(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    (tmp_path / "report.md").write_text("stale\n")
    write_reports(run, tmp_path, ["md"])
    assert "stale" not in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_a_masked_token_never_appears_in_any_report(tmp_path: Path, fmt: str) -> None:
    run = sample_run(tmp_path, hidden=HIDDEN)
    run = replace(
        run,
        lane_reasons=(f"because {HIDDEN}",),
        stages=tuple(
            replace(s, error=f"{HIDDEN} leaked", command=f"tool {HIDDEN}") for s in run.stages
        ),
    )
    text = RENDERERS[fmt](run, tmp_path, masker=Masker([HIDDEN]))
    assert HIDDEN not in text
    assert "***" in text
    assert FILE_NAMES[fmt]


def test_the_json_report_is_the_record(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    data = json.loads(RENDERERS["json"](run, tmp_path))
    assert data["schema"] == 1
    assert [s["name"] for s in data["stages"]] == [s.name for s in run.stages]
