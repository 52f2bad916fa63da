"""Runs and imported records list in the order they happened, through the real command."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.model.records import RunRecord, write_record
from tests.helpers.trends_data import run, stage
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

CONFIG = (
    '[workflow]\nhistory = "state/history.db"\nreports = "reports"\n\n'
    f'[stages.cheap]\nrun = [{json.dumps(sys.executable)}, "-c", "pass"]\n'
)


def listed(root: Path, *args: str) -> list[str]:
    result = workflow(root, "history", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [entry["run_id"] for entry in json.loads(result.stdout)]


def trend_points(root: Path) -> list[str]:
    result = workflow(root, "trend", "--format", "json")
    assert result.returncode == 0, result.stderr
    (group,) = json.loads(result.stdout)["groups"]
    whole = next(series for series in group["series"] if series["whole_run"])
    return [point["run_id"] for point in whole["points"]]


def test_runs_one_after_another_list_newest_first(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG)
    ran: list[str] = []
    for _ in range(3):
        result = workflow(tmp_path, "run", "--lane", "standard", "--format", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        (new,) = {p.name for p in (tmp_path / "reports").iterdir()} - set(ran)
        ran.append(new)
    started = [
        json.loads((tmp_path / "reports" / r / "run.json").read_text())["started_at"] for r in ran
    ]
    assert all("." in text and text.endswith("+00:00") for text in started)  # microseconds, UTC
    assert listed(tmp_path) == ran[::-1]
    assert listed(tmp_path, "--last", "2") == [ran[2], ran[1]]
    assert trend_points(tmp_path) == ran


def saved(root: Path, record: RunRecord) -> str:
    path = root / "saved" / f"{record.run_id}.json"
    write_record(record, path)
    return str(path)


def test_imported_records_of_one_second_order_by_start_then_by_import(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG)
    base = run(0, [stage("cheap", 1.0)])
    moments = {  # run id -> started_at: all within 12:00:07 UTC, in several offsets
        "e-half": "2026-03-01T07:00:07.5-05:00",
        "c-quarter": "2026-03-01T12:00:07.250000+00:00",
        "d-whole": "2026-03-01T12:00:07+00:00",
        "b-quarter": "2026-03-01T14:00:07.25+02:00",
        "a-whole": "2026-03-01T13:00:07+01:00",
        "f-later": "2026-03-01T12:00:07.000001+00:00",
    }
    paths = {
        run_id: saved(tmp_path, replace(base, run_id=run_id, started_at=started_at))
        for run_id, started_at in moments.items()
    }
    first = workflow(tmp_path, "history", "import", *(paths[r] for r in list(moments)[:4]))
    assert first.returncode == 0, first.stderr
    second = workflow(tmp_path, "history", "import", paths["a-whole"], paths["f-later"])
    assert second.returncode == 0, second.stderr
    again = workflow(tmp_path, "history", "import", paths["d-whole"])  # keeps its place
    assert again.returncode == 0, again.stderr

    # By instant: .0 (d-whole imported before a-whole), .000001, .25 (c before b), .5.
    happened = ["d-whole", "a-whole", "f-later", "c-quarter", "b-quarter", "e-half"]
    assert listed(tmp_path) == happened[::-1]
    assert listed(tmp_path, "--last", "3") == ["e-half", "b-quarter", "c-quarter"]
    assert trend_points(tmp_path) == happened


def test_a_started_at_without_offset_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG)
    good = saved(tmp_path, run(0, [stage("cheap", 1.0)]))
    naive = saved(
        tmp_path, replace(run(1, [stage("cheap", 1.0)]), started_at="2026-03-01T12:00:07")
    )
    result = workflow(tmp_path, "history", "import", good, naive)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"workflow: {naive}: started_at: '2026-03-01T12:00:07' has no UTC offset "
        "(write e.g. 2026-03-01T12:00:07+00:00)."
    ]
    assert not (tmp_path / "state").exists()
