"""Callable stages get a stage's isolation: their exit, env, cwd and timeout are their own.

Real processes and real threads; nothing is mocked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.masking import Masker, secret_values
from orchestrator.model.records import StageRecord, StageStatus
from tests.integration import pooling, stagefuncs
from tests.integration.command import workflow

STAGEFUNCS = "tests.integration.stagefuncs"


def run(specs: list[StageSpec], tmp_path: Path, strategy: Strategy) -> dict[str, StageRecord]:
    return pooling.run(specs, tmp_path, strategy=strategy, initial_size=2)


@pytest.mark.parametrize("strategy", [Strategy.SEQUENTIAL, Strategy.THREAD])
@pytest.mark.parametrize(
    ("function", "error"),
    [("exits_zero", "SystemExit(0)"), ("interrupts", "KeyboardInterrupt")],
)
def test_exit_or_interrupt_in_a_thread_is_the_stage_failure(
    function: str, error: str, strategy: Strategy, tmp_path: Path
) -> None:
    specs = [
        StageSpec("quitter", 2, call=f"{STAGEFUNCS}:{function}"),
        StageSpec("later", 3, call=f"{STAGEFUNCS}:passes"),
    ]
    records = run(specs, tmp_path, strategy)
    assert records["quitter"].executor in {"inline", "thread"}
    assert records["quitter"].status is StageStatus.FAILED
    assert records["quitter"].error is not None
    assert records["quitter"].error.endswith(error)
    assert records["later"].status is StageStatus.PASSED


def test_exit_zero_in_its_own_process_is_a_failure_too(tmp_path: Path) -> None:
    spec = StageSpec("quitter", 2, call=f"{STAGEFUNCS}:exits_zero")
    records = run([spec], tmp_path, Strategy.PROCESS)
    assert records["quitter"].executor == "process"
    assert records["quitter"].status is StageStatus.FAILED
    assert records["quitter"].error == "the stage raised SystemExit(0)"


@pytest.mark.parametrize("strategy", list(Strategy))
def test_a_named_callable_with_env_and_cwd_gets_both(strategy: Strategy, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    spec = StageSpec("envy", 2, call=f"{STAGEFUNCS}:shows_env_cwd", env={"X": "1"}, cwd=sub)
    records = run([spec], tmp_path, strategy)
    assert records["envy"].executor == "process"
    assert records["envy"].status is StageStatus.PASSED
    assert f"X = 1 cwd = {sub}" in (tmp_path / "logs" / "envy.log").read_text()


@pytest.mark.parametrize("strategy", [Strategy.SEQUENTIAL, Strategy.THREAD, Strategy.HYBRID])
def test_a_named_callable_with_a_timeout_is_ended_at_it(strategy: Strategy, tmp_path: Path) -> None:
    spec = StageSpec("hang", 2, call=f"{STAGEFUNCS}:hangs", timeout=1, kill_grace=1, kind="io")
    started = time.monotonic()
    records = run([spec], tmp_path, strategy)
    assert time.monotonic() - started < 40  # generous: the stage itself sleeps 60 s
    assert records["hang"].executor == "process"
    assert records["hang"].status is StageStatus.TIMEOUT
    assert records["hang"].exit_code == 124


def test_adaptive_keeps_an_io_callable_in_its_own_process(tmp_path: Path) -> None:
    spec = StageSpec("io", 2, call=f"{STAGEFUNCS}:passes", kind="io")
    assert run([spec], tmp_path, Strategy.ADAPTIVE)["io"].executor == "process"


def test_a_chdir_in_an_inline_callable_is_put_back(tmp_path: Path) -> None:
    before = Path.cwd()
    specs = [
        StageSpec("mover", 2, call=f"{STAGEFUNCS}:changes_dir"),
        StageSpec("after", 3, call=f"{STAGEFUNCS}:shows_env_cwd", needs=("mover",)),
    ]
    records = run(specs, tmp_path, Strategy.SEQUENTIAL)
    assert Path.cwd() == before
    assert records["after"].status is StageStatus.PASSED
    assert f"cwd = {before}" in (tmp_path / "logs" / "after.log").read_text()
    assert "put back to" in (tmp_path / "logs" / "mover.log").read_text()


def test_a_function_object_with_env_is_refused(tmp_path: Path) -> None:
    pool = AdaptiveWorkerPool(Strategy.THREAD, 1, log_dir=tmp_path / "logs")
    try:
        with pytest.raises(ValueError, match=r"'f'.*cannot give it its own env"):
            pool.submit(StageSpec("f", 2, call=stagefuncs.passes, env={"X": "1"}))
    finally:
        pool.shutdown()


def test_a_function_object_past_its_timeout_is_a_timeout(tmp_path: Path) -> None:
    spec = StageSpec("nap", 2, call=stagefuncs.naps, timeout=0.05)
    records = run([spec], tmp_path, Strategy.THREAD)
    assert records["nap"].status is StageStatus.TIMEOUT
    assert records["nap"].exit_code == 124


@pytest.mark.parametrize("strategy", ["sequential", "thread"])
def test_sys_exit_in_a_configured_callable_does_not_end_the_run(
    strategy: str, tmp_path: Path
) -> None:
    (tmp_path / "chk").mkdir()
    (tmp_path / "chk" / "__init__.py").write_text("")
    (tmp_path / "chk" / "s.py").write_text(
        "import os, sys\n"
        "def exit0():\n    sys.exit(0)\n"
        "def env():\n    print('X =', os.environ.get('X'))\n"
    )
    (tmp_path / "workflow.toml").write_text(
        "[stages.failing]\nnumber = 2\nrun = ['sh', '-c', 'exit 1']\n"
        "[stages.quitter]\nnumber = 3\ncall = 'chk.s:exit0'\n"
        "[stages.withenv]\nnumber = 4\ncall = 'chk.s:env'\nenv = { X = '1' }\n"
    )
    result = workflow(
        tmp_path, "run", "--lane", "heavy", "--strategy", strategy, "--no-history",
        "--report-dir", "out",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    (run_dir,) = (tmp_path / "out").iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["exit_code"] == 1
    statuses = {s["name"]: (s["status"], s["executor"]) for s in record["stages"]}
    assert statuses == {
        "failing": ("failed", "inline" if strategy == "sequential" else "thread"),
        "quitter": ("failed", "process"),
        "withenv": ("passed", "process"),
    }
    assert "X = 1" in (run_dir / "logs" / "withenv.log").read_text()
    assert (run_dir / "report.html").is_file()


def test_a_function_in_a_thread_writing_a_key_in_pieces_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "s3cr3t-signing-key-value\nsecond-line-of-the-key"
    monkeypatch.setenv("TEST_SIGNING_KEY", key)
    masker = Masker(secret_values({"SIGNING_KEY": key}))
    pool = AdaptiveWorkerPool(Strategy.THREAD, 1, log_dir=tmp_path / "logs", masker=masker)
    pool.submit(StageSpec("sign", 2, call=stagefuncs.writes_key_in_pieces))
    try:
        pool.wait_all()
    finally:
        pool.shutdown()
    (record,) = pool.results
    assert record.executor == "thread"
    text = (tmp_path / "logs" / "sign.log").read_text()
    assert "s3cr3t" not in text
    assert "second-line" not in text
    assert "***\n***\nno newline at the end" in text
