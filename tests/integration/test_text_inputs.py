"""Text from other platforms: every input accepts a UTF-8 byte-order mark and CRLF line ends.

Each input is written the way a Windows editor (or PowerShell) writes it and handed to the
real `workflow` command (or, for the GitHub event file, the real lane decision on a real
repository).
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lanes.decide import decide_lane
from orchestrator.configfile.edit import write_targets
from orchestrator.configfile.load import load_config
from orchestrator.model.config import Lane
from tests.helpers.lanes_repo import (
    DETECT,
    ZERO,
    git_env,
    remote_and_clone,
    workflow,
)

pytestmark = pytest.mark.usefixtures("isolated_git")

BOM = codecs.BOM_UTF8


def windows(text: str) -> bytes:
    """`text` as a Windows editor saves it: a UTF-8 BOM and CRLF line ends."""
    return BOM + text.replace("\n", "\r\n").encode("utf-8")


def stage_config(message: str) -> str:
    code = f"print({message!r})"
    return (
        f'[stages.hello]\nrun = [{json.dumps(sys.executable)}, "-c", {json.dumps(code)}]\n'
        '[workflow]\nhistory = ""\n'
    )


def test_a_bom_and_crlf_workflow_toml_is_valid_and_runs(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_bytes(windows(stage_config("from a BOM file")))
    result = workflow(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert "valid; stages: hello" in result.stdout
    run = workflow(tmp_path, "run", "--lane", "heavy", "--format", "json")
    assert run.returncode == 0, run.stderr
    run_dir = Path(run.stdout.strip().splitlines()[-1].removeprefix("reports: "))
    assert (run_dir / "logs" / "hello.log").read_text() == "from a BOM file\n"


def test_a_bom_and_crlf_pyproject_table_is_read(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\n' + stage_config("pyproject").replace(
        "[stages.", "[tool.workflow.stages."
    ).replace("[workflow]", "[tool.workflow.workflow]")
    (tmp_path / "pyproject.toml").write_bytes(windows(text))
    result = workflow(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert "pyproject.toml: valid; stages: hello" in result.stdout


def test_a_bom_change_list_with_pyproject_is_heavy(tmp_path: Path) -> None:
    listing = tmp_path / "changed.txt"
    listing.write_bytes(windows("pyproject.toml\nsrc/app.py\n"))
    lane = workflow(tmp_path, "lane", "--changed-files", str(listing), "--json")
    assert lane.returncode == 0, lane.stderr
    decided = json.loads(lane.stdout)
    assert decided["lane"] == "heavy", decided
    assert decided["changed"] == ["pyproject.toml", "src/app.py"]
    (tmp_path / "workflow.toml").write_text(stage_config("x"))
    plan = workflow(tmp_path, "run", "--dry-run", "--changed-files", str(listing))
    assert plan.returncode == 0, plan.stderr
    assert "lane: heavy\n" in plan.stdout


def test_a_bom_change_list_on_stdin_is_heavy(tmp_path: Path) -> None:
    # PowerShell pipes UTF-16 with a BOM; other tools UTF-8 with one.
    for data in (windows("pyproject.toml\n"), "pyproject.toml\r\n".encode("utf-16")):
        lane = workflow_bytes(tmp_path, data, "lane", "--changed-files", "-", "--json")
        assert json.loads(lane)["lane"] == "heavy"


def workflow_bytes(cwd: Path, stdin: bytes, *args: str) -> str:
    """The real command with raw bytes on standard input; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=git_env(),
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def test_pre_push_input_with_a_bom_and_crlf(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    work.git("checkout", "-q", "-b", "topic")
    work.commit({"docs/b.md": "B.\n"})
    line = f"refs/heads/topic {work.sha()} refs/heads/topic {ZERO}\n"
    decided = json.loads(workflow_bytes(work.path, windows(line), "lane", "--pre-push", "--json"))
    assert decided["lane"] == "docs"
    assert decided["changed"] == ["docs/b.md"]


def test_a_bom_and_crlf_github_event_file_is_read(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    before = work.sha()
    after = work.commit({"src/app.py": "print('pushed')\n"})
    event = tmp_path / "event.json"
    payload = {"ref": "refs/heads/main", "before": before, "after": after}
    event.write_bytes(windows(json.dumps(payload, indent=2)))
    env = {"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)}
    decision = decide_lane(work.path, DETECT, env=env)
    assert decision.lane is Lane.STANDARD, decision.reasons
    assert decision.base == before


def test_history_import_and_report_of_a_bom_crlf_record(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(
        stage_config("saved").replace('history = ""', 'history = "h.db"')
    )
    run = workflow(tmp_path, "run", "--lane", "heavy", "--no-history", "--format", "json")
    assert run.returncode == 0, run.stderr
    saved = Path(run.stdout.strip().splitlines()[-1].removeprefix("reports: ")) / "run.json"
    copy = tmp_path / "from-windows.json"
    copy.write_bytes(windows(saved.read_text()))
    imported = workflow(tmp_path, "history", "import", str(copy))
    assert imported.returncode == 0, imported.stderr
    listed = json.loads(workflow(tmp_path, "history", "--json").stdout)
    assert [entry["run_id"] for entry in listed] == [json.loads(saved.read_text())["run_id"]]
    report = workflow(tmp_path, "report", str(copy), "--format", "md", "-o", "-")
    assert report.returncode == 0, report.stderr
    assert "hello" in report.stdout


def test_profile_write_keeps_the_bom_and_line_ends(tmp_path: Path) -> None:
    config = tmp_path / "workflow.toml"
    config.write_bytes(windows("# mine\n" + stage_config("x")))
    write_targets(load_config(config), "heavy", {"hello": 4})
    data = config.read_bytes()
    assert data.startswith(BOM)
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert load_config(config).config.lanes.heavy.sla == {"hello": 4}
    assert data.decode("utf-8-sig").startswith("# mine\r\n")
