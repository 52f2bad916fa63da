"""Runs that reuse, store and refuse cached results, through the library and the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.config import Lane
from orchestrator.model.records import StageRecord
from orchestrator.model.status import StageStatus
from orchestrator.pipeline.workflow import RunOptions, RunResult, run_workflow
from tests.integration.cache_repo import git, make_repo
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

PY = json.dumps(sys.executable)
# Each stage appends a line to an ignored file, so a test counts real executions.
COUNT = (
    "import pathlib, sys; p = pathlib.Path('build/{name}.runs'); p.parent.mkdir(exist_ok=True)"
    "; p.open('a').write('ran\\n'); "
)


def stage(name: str, number: int, body: str = "print('ok')", extra: str = "") -> str:
    code = json.dumps(COUNT.format(name=name) + body)
    return f'[stages.{name}]\nnumber = {number}\nrun = [{PY}, "-c", {code}]\n{extra}\n'


def project(tmp_path: Path, stages: str, workflow_section: str = "") -> Path:
    repo = make_repo(tmp_path / "project")
    config = f'{workflow_section}\n[lanes.heavy]\nstrategy = "thread"\nworkers = 2\n\n{stages}'
    (repo / "workflow.toml").write_text(config, encoding="utf-8")
    git(repo, "add", "workflow.toml")
    git(repo, "commit", "-q", "-m", "config")
    return repo


def run(repo: Path, *, cache: bool = True) -> RunResult:
    options = RunOptions(
        cwd=repo, lane=Lane.HEAVY, formats=("json", "md", "junit", "html"), cache=cache
    )
    return run_workflow(options)


def stage_of(result: RunResult, name: str) -> StageRecord:
    assert result.record is not None
    found = result.record.stage(name)
    assert found is not None
    return found


def runs(repo: Path, name: str) -> int:
    path = repo / "build" / f"{name}.runs"
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_an_unchanged_stage_is_reused_and_says_so_everywhere(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        stage("lint", 2, "print('lint found nothing')", 'inputs = ["src/**"]')
        + stage("unit", 4, "print('3 passed')"),
    )
    first = run(repo)
    assert first.exit_code == 0
    lint = stage_of(first, "lint")
    assert lint.cache is not None and lint.cache.stored is True and not lint.cache.hit
    second = run(repo)
    assert second.exit_code == 0
    assert (runs(repo, "lint"), runs(repo, "unit")) == (1, 1)  # neither ran again
    reused = stage_of(second, "lint")
    assert reused.status is StageStatus.PASSED
    assert reused.cache is not None and reused.cache.hit
    assert reused.cache.key == lint.cache.key
    assert first.record is not None and reused.cache.from_run == first.record.run_id
    assert reused.cache.saved_s == lint.duration_s
    assert second.run_dir is not None and reused.log is not None
    log = (second.run_dir / reused.log).read_text()
    assert log.splitlines()[0].startswith(f"workflow: cached result from run {first.record.run_id}")
    assert "lint found nothing" in log
    saved = json.loads((second.run_dir / "run.json").read_text())
    assert saved["stages"][0]["cache"]["hit"] is True
    assert saved["stages"][0]["cache"]["from_run"] == first.record.run_id
    for report in ("report.md", "junit.xml", "report.html"):
        assert "passed (cached)" in (second.run_dir / report).read_text(), report
    # Only lint's inputs changed: lint runs, unit (every tracked file) runs as well.
    (repo / "src/pkg/core.py").write_text("changed = True\n")
    third = run(repo)
    assert (runs(repo, "lint"), runs(repo, "unit")) == (2, 2)
    assert not stage_of(third, "lint").cache_hit
    # A docs change is outside lint's inputs: lint is reused, unit runs.
    (repo / "docs/guide.md").write_text("# New guide\n")
    fourth = run(repo)
    assert stage_of(fourth, "lint").cache_hit and not stage_of(fourth, "unit").cache_hit
    assert (runs(repo, "lint"), runs(repo, "unit")) == (2, 3)


def test_failures_and_retried_passes_are_never_stored(tmp_path: Path) -> None:
    flaky = "sys.exit(0 if len(p.read_text().splitlines()) > 1 else 1)"
    repo = project(
        tmp_path,
        stage("broken", 2, "sys.exit(3)") + stage("flaky", 3, flaky, "retries = 1"),
    )
    first = run(repo)
    assert first.exit_code == 1
    broken, retried = stage_of(first, "broken"), stage_of(first, "flaky")
    assert broken.cache is not None and broken.cache.stored is False
    assert broken.cache.reason == "only passes are stored"
    assert retried.status is StageStatus.PASSED and retried.attempts == 2
    assert retried.cache is not None and retried.cache.stored is False
    run(repo)
    assert (runs(repo, "broken"), runs(repo, "flaky")) == (2, 3)


def test_an_input_edited_while_the_stage_runs_stores_nothing(tmp_path: Path) -> None:
    # Coverage data that git does not ignore: an input of the stage's key, though not a
    # source that would fail the stage (pipeline/sourceguard.py).
    edit = "pathlib.Path('.coverage').write_text('written while running\\n')"
    repo = project(tmp_path, stage("format", 2, edit))
    first = run(repo)
    record = stage_of(first, "format")
    assert record.status is StageStatus.PASSED
    assert record.cache is not None and record.cache.stored is False
    assert record.cache.reason == "its inputs or tools changed while it ran"
    assert not any((repo / ".workflow" / "cache").rglob("*.entry"))


def test_no_cache_runs_everything_and_still_stores(tmp_path: Path) -> None:
    repo = project(tmp_path, stage("lint", 2))
    run(repo, cache=False)
    second = run(repo, cache=False)
    assert runs(repo, "lint") == 2 and not stage_of(second, "lint").cache_hit
    assert stage_of(run(repo), "lint").cache_hit  # what --no-cache stored is reused


def test_the_cache_turned_off_or_refused_by_a_stage(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        stage("lint", 2) + stage("deploy", 3, extra="cache = false"),
        '[workflow]\ncache = ""',
    )
    run(repo)
    second = run(repo)
    assert runs(repo, "lint") == 2 and stage_of(second, "lint").cache is None
    assert not (repo / ".workflow" / "cache").exists()
    config = (repo / "workflow.toml").read_text().replace('cache = ""', "")
    (repo / "workflow.toml").write_text(config)
    run(repo)
    third = run(repo)
    assert stage_of(third, "lint").cache_hit
    assert stage_of(third, "deploy").cache is None and runs(repo, "deploy") == 4


def test_dry_run_and_the_cache_commands(tmp_path: Path) -> None:
    repo = project(tmp_path, stage("lint", 2, extra='inputs = ["src/**"]\ncache_env = ["MODE"]'))
    first = run(repo)
    assert first.record is not None
    dry = workflow(repo, "run", "--lane", "heavy", "--dry-run")
    assert f"cached from {first.record.run_id}" in dry.stdout, dry.stdout
    assert "would run" in workflow(repo, "run", "--lane", "heavy", "--dry-run", "--no-cache").stdout
    listed = workflow(repo, "cache", "list")
    assert listed.returncode == 0 and "lint" in listed.stdout and "1 entries" in listed.stdout
    assert "unchanged since run" in workflow(repo, "cache", "explain", "lint").stdout
    (repo / "src/pkg/core.py").chmod(0o755)
    (repo / "src/pkg/extra.py").write_text("x = 1\n")
    explained = workflow(repo, "cache", "explain", "lint", env={"MODE": "other"}).stdout
    assert "input files changed: src/pkg/core.py" in explained
    assert "input files added: src/pkg/extra.py" in explained
    assert "variables changed: MODE" in explained
    archive = tmp_path / "cache.tar"
    assert workflow(repo, "cache", "export", str(archive)).returncode == 0
    assert "removed 1 entries" in workflow(repo, "cache", "clear").stdout
    imported = workflow(repo, "cache", "import", str(archive))
    assert imported.returncode == 0 and "imported 1 entries" in imported.stdout
    bad = workflow(repo, "cache", "explain", "nope")
    assert bad.returncode == 2 and "no stage named 'nope'" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = workflow(repo, "cache", "import", str(tmp_path / "none.tar"))
    assert missing.returncode == 2 and "none.tar: no such archive" in missing.stderr
    garbage = tmp_path / "garbage.tar"
    garbage.write_text("not a tar")
    broken = workflow(repo, "cache", "import", str(garbage))
    assert broken.returncode == 2, broken.stderr
    assert broken.stderr.splitlines() == [
        f"workflow: {garbage}: not a tar archive (or a damaged one)."
    ]


def test_cache_settings_are_validated(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        stage("lint", 2, extra='inputs = "src"\ncache_env = ["A=B"]\ncache = "yes"'),
        "[workflow]\ncache = 3\ncache_size_mb = 0",
    )
    checked = workflow(repo, "validate")
    assert checked.returncode == 2
    for line in (
        "workflow.cache: must be a string",
        "workflow.cache_size_mb: must be greater than 0",
        "stages.lint.inputs: must be a list of strings",
        'stages.lint.cache_env: must name environment variables, not "A=B"',
        "stages.lint.cache: must be true or false",
    ):
        assert line in checked.stderr, checked.stderr


def test_reused_passes_teach_neither_the_scheduler_nor_trends(tmp_path: Path) -> None:
    from orchestrator.history.profiles import profiles_from_reports
    from orchestrator.history.store import HistoryStore
    from sla.bottlenecks import find_bottlenecks
    from sla.trends import comparable_runs

    repo = project(tmp_path, stage("lint", 2) + stage("unit", 4))
    first, second = run(repo), run(repo)
    assert stage_of(second, "lint").cache_hit and stage_of(second, "unit").cache_hit
    history = HistoryStore(repo / ".workflow" / "history.db")
    assert len(history.runs()) == 2
    profiles = history.stage_profiles(
        "heavy", second.record.host.runner_class if second.record else ""
    )
    assert profiles["lint"].samples == 1  # the first run's measurement only
    from_reports = profiles_from_reports(repo / ".workflow" / "reports", "heavy")
    assert from_reports["unit"].samples == 1
    assert first.record is not None and second.record is not None
    assert comparable_runs([first.record, second.record]) == [first.record]
    replayed = replay_record(second.record)
    assert all(b.stage is None for b in find_bottlenecks(second.record, replayed))
