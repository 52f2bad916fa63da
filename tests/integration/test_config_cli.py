"""`validate` and `run` agree on what a configuration may hold, and a vanished current
directory is one sentence: the real `workflow` command, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.command import workflow

BAD_STAGES = {
    "argv NUL": ('[stages.nul]\nrun = ["echo", "a\\u0000b"]\n', "stages.nul.run: argument 2"),
    "env NUL": ('[stages.e]\nrun = ["true"]\nenv = { X = "a\\u0000b" }\n', "stages.e.env.X:"),
    "env name =": ('[stages.e]\nrun = ["true"]\nenv = { "A=B" = "x" }\n', "stages.e.env.A=B:"),
    "env name empty": ('[stages.e]\nrun = ["true"]\nenv = { "" = "y" }\n', 'stages.e.env."":'),
    "name newline": ('[stages."x\\n::error::i"]\nrun = ["true"]\n', 'stages."x\\n::error::i":'),
    "name empty": ('[stages.""]\nrun = ["true"]\n', 'stages."":'),
    # Patterns are compiled when the configuration is read, not when a run needs them.
    "inputs empty": ('[stages.i]\nrun = ["true"]\ninputs = [""]\n', 'stages.i.inputs: "" is'),
    "inputs bare !": ('[stages.i]\nrun = ["true"]\ninputs = ["src/**", "!"]\n', "stages.i.inputs:"),
    "secret cache_env": (
        '[stages.s]\nrun = ["true"]\ncache_env = ["PATH", "API_TOKEN"]\n',
        'stages.s.cache_env: "API_TOKEN" looks like a secret',
    ),
    "detect empty": ('[detect]\ndocs = ["/"]\n[stages.d]\nrun = ["true"]\n', "detect.docs:"),
}


@pytest.mark.parametrize("case", sorted(BAD_STAGES))
def test_validate_and_run_refuse_the_same_configuration(case: str, tmp_path: Path) -> None:
    text, key = BAD_STAGES[case]
    (tmp_path / "workflow.toml").write_text(text + '[stages.long]\nrun = ["sleep", "30"]\n')
    for args in (("validate",), ("run", "--lane", "heavy", "--no-history")):
        result = workflow(tmp_path, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert key in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert not (tmp_path / ".workflow").exists()


def test_a_deleted_current_directory_is_one_sentence(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    script = 'mkdir "$1" && cd "$1" && rmdir "$1" && shift && exec "$@"'
    for command in ("run", "lane", "validate", "history"):
        result = subprocess.run(
            ["sh", "-c", script, "sh", str(gone), sys.executable, "-m", "orchestrator", command],
            capture_output=True,
            text=True,
            env={**os.environ, "CI": "true"},
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.startswith("workflow: the current directory no longer exists")
        assert result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--report-dir", ""),
        ("run", "--config", ""),
        ("validate", "--config", " "),
        ("trend", "-o", ""),
        ("report", ""),
    ],
)
def test_an_empty_path_is_a_usage_error(args: tuple[str, ...], tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text("[stages.a]\nrun = ['true']\n")
    result = workflow(tmp_path, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "the path is empty" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".workflow").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workflow.toml"]


def test_report_refuses_to_overwrite_its_own_record(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text("[stages.a]\nrun = ['true']\n")
    assert workflow(tmp_path, "run", "--lane", "heavy", "--no-history").returncode == 0
    (record,) = (tmp_path / ".workflow" / "reports").glob("*/run.json")
    before = record.read_bytes()
    for output in (str(record), str(record.parent / "." / "run.json")):
        result = workflow(tmp_path, "report", str(record), "--format", "md", "-o", output)
        assert result.returncode == 2, result.stderr
        assert "is the run record itself" in result.stderr
    assert record.read_bytes() == before


def test_validate_suggests_the_nearest_key_and_warns_about_missing_commands(
    tmp_path: Path,
) -> None:
    (tmp_path / "workflow.toml").write_text(
        '[stages.lint]\nrun = ["ruff", "check"]\ntimout = 3\n[lanes.docs]\nstage = ["lint"]\n'
    )
    result = workflow(tmp_path, "validate")
    assert result.returncode == 2
    assert 'stages.lint.timout: unknown key; did you mean "timeout"?' in result.stderr
    assert 'lanes.docs.stage: unknown key; did you mean "stages"?' in result.stderr
    (tmp_path / "workflow.toml").write_text(
        '[stages.lint]\nrun = ["rufff", "check", "."]\n'
        '[stages.script]\nrun = ["./scripts/missing.sh"]\n'
        f'[stages.fine]\nrun = [{json.dumps(sys.executable)}, "-V"]\n'
    )
    result = workflow(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert "valid, with 2 warnings" in result.stdout
    assert (
        'warning: stages.lint.run: "rufff" is not found on the stage\'s PATH; '
        'did you mean "ruff"?' in result.stderr
    )
    assert 'stages.script.run: "./scripts/missing.sh" is not an executable file' in result.stderr
    assert "stages.fine" not in result.stderr
