"""What `workflow run` loads before its first stage, and what it leaves for later.

Start-up is measured by the bench (bench/bench_pool.py); these tests pin the decisions
behind it, in a fresh interpreter each (real imports, no timing): the modules below cost
more than the first stage may wait, so the start path must not load them, and the ones a
run needs later are loaded by the helper thread (`Finisher.prepare`) while stages run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Loaded once the stages run (the helper thread) or only by the commands that need them.
NOT_ON_THE_START_PATH = (
    "lxml.etree",  # reading a JUnit file: engine/pytest/junit.py, after a stage ends
    "orchestrator.model.records",  # the record types: the helper thread's first record
    "orchestrator.cache.explain",  # `workflow cache explain` only
    "orchestrator.pipeline.finish",  # the finishing code, with sla, reports and jinja2
    "tempfile",  # writing a cache entry or an atomic file
    "pydantic",
    "jinja2",
    "sla.verdict",
    "reports",
    "orchestrator.pipeline.shards",  # `run --shard` only
    "statistics",  # planning shards
)


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_the_run_command_loads_nothing_the_first_stage_does_not_need() -> None:
    loaded = set(_loaded_after("import orchestrator.commands.run"))
    assert [name for name in NOT_ON_THE_START_PATH if name in loaded] == []


def test_the_result_cache_computes_its_keys_without_the_record_types() -> None:
    # The keys are computed before any stage starts (pipeline/cached.py RunCache.hits).
    loaded = set(_loaded_after("import orchestrator.pipeline.cached, orchestrator.cache.key"))
    assert "orchestrator.model.records" not in loaded
    assert "orchestrator.cache.explain" not in loaded
    assert "orchestrator.model.globs" not in loaded  # only a stage with `inputs` needs it


def test_reading_the_stage_profiles_from_history_leaves_the_record_types(tmp_path: Path) -> None:
    # A real history with one recorded run: the plan reads its profiles before any stage.
    history = tmp_path / "history.db"
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--lane", "heavy"],
        cwd=(project := _project(tmp_path, history)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    code = (
        "from pathlib import Path\n"
        "from orchestrator.history.store import profiles_safely\n"
        f"profiles = profiles_safely(Path({str(history)!r}), 'heavy', {_runner_class(project)!r})\n"
        "assert list(profiles) == ['s1'], profiles"
    )
    assert "orchestrator.model.records" not in _loaded_after(code)


def _project(root: Path, history: Path) -> Path:
    project = root / "project"
    project.mkdir()
    (project / "workflow.toml").write_text(
        f'[workflow]\nhistory = {json.dumps(str(history))}\ncache = ""\n'
        '[stages.s1]\nrun = ["true"]\n',
        encoding="utf-8",
    )
    return project


def _runner_class(project: Path) -> str:
    (written,) = project.glob(".workflow/reports/*/run.json")
    runner_class: str = json.loads(written.read_text(encoding="utf-8"))["host"]["runner_class"]
    return runner_class


def test_the_helper_threads_preload_loads_the_junit_reader() -> None:
    code = "from orchestrator.pipeline.finish import Finisher\nFinisher().prepare()"
    loaded = set(_loaded_after(code))
    assert {"lxml.etree", "orchestrator.model.records", "jinja2"} <= loaded


def test_cache_explain_still_loads_its_comparison() -> None:
    loaded = set(_loaded_after("import orchestrator.commands.cache"))
    assert "orchestrator.cache.explain" in loaded
