"""Commands that read a saved record mask what a run would: the secrets of this
environment and of every configured stage's own `env`.

The real `workflow` command; records built with the record types and written to disk.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.model.records import write_record
from orchestrator.model.status import StageStatus
from tests.helpers.trends_data import run, stage
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

SECRET = "stage-only-deploy-secret"  # nosec B105
CONFIG = (
    '[workflow]\nhistory = "state/history.db"\n\n[stages.deploy]\nrun = ["true"]\n'
    f'env = {{ DEPLOY_TOKEN = "{SECRET}" }}\n'
)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A record from elsewhere whose stage command holds the configured stage's secret."""
    (tmp_path / "workflow.toml").write_text(CONFIG)
    failed = stage("deploy", 1.0, status=StageStatus.FAILED)
    deploy = replace(failed, command=f"deploy --token {SECRET}", error=f"refused {SECRET}")
    path = tmp_path / "saved" / "run.json"
    write_record(run(0, [deploy]), path)
    assert SECRET in path.read_text()
    return path


def test_report_masks_a_configured_stage_s_env_secret(saved: Path) -> None:
    result = workflow(saved.parent.parent, "report", str(saved), "--format", "md", "-o", "-")
    assert result.returncode == 0, result.stderr
    assert "refused ***" in result.stdout
    assert SECRET not in result.stdout


def test_history_import_masks_a_configured_stage_s_env_secret(saved: Path) -> None:
    root = saved.parent.parent
    imported = workflow(root, "history", "import", str(saved))
    assert imported.returncode == 0, imported.stderr
    assert SECRET.encode() not in (root / "state" / "history.db").read_bytes()
    listed = workflow(root, "history", "--json")
    assert listed.returncode == 0, listed.stderr
    assert SECRET not in json.dumps(json.loads(listed.stdout))
