"""The hand-built sample run the SLA and report tests share is a valid, judged record."""

from __future__ import annotations

from pathlib import Path

from orchestrator.model.records import read_record, write_record
from tests.helpers.reports_samples import sample_run


def test_the_sample_run_survives_a_json_round_trip(tmp_path: Path) -> None:
    run = sample_run(tmp_path)
    write_record(run, tmp_path / "run.json")
    assert read_record(tmp_path / "run.json") == run
    assert run.sla.critical_violation
    assert run.bottlenecks
