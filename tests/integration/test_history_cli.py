"""`workflow history` and `workflow history import`, run as real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.history.store import HistoryStore
from orchestrator.model.records import write_record
from tests.helpers.trends_data import run, stage
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

CONFIG = '[workflow]\nhistory = "state/history.db"\n\n[stages.lint]\nrun = ["true"]\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "workflow.toml").write_text(CONFIG)
    for index in range(3):
        record = run(index, [stage("lint", 1.0 + index)])
        write_record(record, tmp_path / "saved" / f"run{index}" / "run.json")
    return tmp_path


def saved(project: Path) -> list[str]:
    return [str(p) for p in sorted((project / "saved").glob("*/run.json"))]


def test_import_then_list_newest_first_as_json(project: Path) -> None:
    empty = workflow(project, "history", "--json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []
    assert not (project / "state").exists()

    imported = workflow(project, "history", "import", *saved(project))
    assert imported.returncode == 0, imported.stderr
    assert "imported 3 new runs into" in imported.stdout
    again = workflow(project, "history", "import", saved(project)[0])  # idempotent on run_id
    assert again.returncode == 0, again.stderr
    assert "imported 0 new runs into" in again.stdout
    assert again.stdout.rstrip().endswith("(1 already recorded, replaced)")
    twice = [saved(project)[1], saved(project)[1]]
    assert "imported 0 new runs" in workflow(project, "history", "import", *twice).stdout

    listed = workflow(project, "history", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [r["run_id"] for r in runs] == [run(i, [stage("lint", 1.0)]).run_id for i in (2, 1, 0)]
    for key in ("run_id", "started_at", "lane", "exit_code", "duration_s", "git_sha"):
        assert key in runs[0]
    assert runs[0]["duration_s"] == 3.0
    assert runs[0]["lane"] == "heavy"
    assert runs[0]["exit_code"] == 0

    last = workflow(project, "history", "--last", "1", "--json")
    assert [r["run_id"] for r in json.loads(last.stdout)] == [runs[0]["run_id"]]


def test_the_table_lists_one_run_per_line(project: Path) -> None:
    workflow(project, "history", "import", *saved(project))
    result = workflow(project, "history")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["RUN", "ID", "STARTED"]
    assert len(lines) == 4
    assert "heavy" in lines[1]
    assert "3.0s" in lines[1]


def test_a_bad_record_is_named_and_nothing_is_imported(project: Path) -> None:
    broken = project / "broken.json"
    broken.write_text('{"schema": 1, "run_id": "x"}')
    result = workflow(project, "history", "import", saved(project)[0], str(broken))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(broken) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(workflow(project, "history", "--json").stdout) == []


def test_usage_errors_exit_2_in_one_line(project: Path) -> None:
    for args in (("history", "import"), ("history", "--last", "0")):
        result = workflow(project, *args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr
    missing = workflow(project, "history", "import", str(project / "nope.json"))
    assert missing.returncode == 2
    assert "nope.json" in missing.stderr


def test_history_turned_off_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(CONFIG.replace("state/history.db", ""))
    result = workflow(tmp_path, "history", "--json")
    assert result.returncode == 2
    assert "workflow.history is empty" in result.stderr


def test_a_corrupt_history_is_one_sentence_and_untouched(project: Path) -> None:
    database = project / "state" / "history.db"
    database.parent.mkdir()
    database.write_bytes(b"not a database at all" * 100)
    result = workflow(project, "history", "--json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(database) in result.stderr
    assert database.read_bytes() == b"not a database at all" * 100


def test_config_option_reaches_the_import_subcommand(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(project / "workflow.toml")
    result = workflow(elsewhere, "history", "--config", config, "import", saved(project)[0])
    assert result.returncode == 0, result.stderr
    listed = workflow(elsewhere, "history", "--config", config, "--json")
    assert len(json.loads(listed.stdout)) == 1


def test_older_and_hand_made_records_are_imported_and_read_back(project: Path) -> None:
    # An older record: host.cpus was the usable share (1.5 under a cgroup quota), no
    # cpu_quota; a hand-made one numbers its workers and its run id.
    data = run(0, [stage("lint", 1.0)]).to_dict()
    data["host"] = {"cpus": 1.5, "memory_bytes": 2**33, "python": "3.11.9"}
    data["stages"][0]["worker"] = 3
    data["run_id"] = 20261130
    data["schema"] = "1"
    older = project / "older.json"
    older.write_text(json.dumps(data))
    imported = workflow(project, "history", "import", str(older))
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(workflow(project, "history", "--json").stdout)
    assert [entry["run_id"] for entry in listed] == ["20261130"]
    report = workflow(project, "report", str(older), "--format", "md", "-o", "-")
    assert report.returncode == 0, report.stderr
    (back,) = HistoryStore(project / "state" / "history.db").runs()
    assert (back.host.cpus, back.host.cpu_quota) == (1, 1.5)
    assert back.stages[0].worker == "3"


def test_a_fractional_field_that_was_always_whole_is_still_refused(project: Path) -> None:
    data = run(0, [stage("lint", 1.0)]).to_dict()
    data["stages"][0]["attempts"] = 1.5
    bad = project / "bad.json"
    bad.write_text(json.dumps(data))
    result = workflow(project, "history", "import", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"workflow: {bad}: stages.0.attempts:")
