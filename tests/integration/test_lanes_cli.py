"""`workflow lane`, the real command: text, JSON, inputs, usage errors, speed."""

from __future__ import annotations

import json
import resource
import statistics
from pathlib import Path

import pytest

from tests.helpers.lanes_repo import (
    ZERO,
    Repo,
    init_repo,
    remote_and_clone,
    workflow,
)

REPOSITORY = Path(__file__).parents[2]


@pytest.fixture
def work(tmp_path: Path) -> Repo:
    _bare, repo = remote_and_clone(tmp_path)
    repo.git("checkout", "-q", "-b", "topic")
    return repo


def test_prints_the_lane_and_the_reasons(work: Repo) -> None:
    work.commit({"docs/a.md": "A.\n"})
    result = workflow(work.path, "lane", "--base", "origin/main")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "lane: docs"
    assert lines[1] == "  because every changed file matches detect.docs: docs/a.md (docs/**)"
    assert lines[2].startswith("  because 1 file and 1 line changed in origin/main...HEAD")


def test_json_for_scripts(work: Repo) -> None:
    work.commit({"src/app.py": "print('json')\n"})
    result = workflow(work.path, "lane", "--base", "origin/main", "--head", "topic", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"lane", "reasons", "base", "changed"}
    assert data["lane"] == "standard"
    assert data["base"] == work.sha("origin/main")
    assert data["changed"] == ["src/app.py"]


def test_nothing_to_check_exits_0(work: Repo) -> None:
    result = workflow(work.path, "lane", "--base", "origin/main")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "nothing to check"
    data = json.loads(workflow(work.path, "lane", "--base", "HEAD", "--json").stdout)
    assert data["lane"] is None
    assert data["changed"] == []


def test_changed_files_from_stdin_and_from_a_file(tmp_path: Path) -> None:
    result = workflow(tmp_path, "lane", "--changed-files", "-", "--json", stdin="docs/a.md\n")
    assert json.loads(result.stdout)["lane"] == "docs"
    listing = tmp_path / "changed.txt"
    listing.write_text("README.md\n.github/workflows/ci.yml\n")
    result = workflow(tmp_path, "lane", "--changed-files", str(listing))
    assert result.stdout.splitlines()[0] == "lane: heavy"


def test_pre_push_input_on_stdin(work: Repo) -> None:
    work.commit({"docs/b.md": "B.\n"})
    line = f"refs/heads/topic {work.sha()} refs/heads/topic {ZERO}\n"
    result = workflow(work.path, "lane", "--pre-push", "--json", stdin=line)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lane"] == "docs"


def test_detect_rules_come_from_the_configuration(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", {"workflow.toml": '[detect]\ndocs = ["*.txt"]\n'})
    result = workflow(repo.path, "lane", "--changed-files", "-", stdin="notes.txt\n")
    assert result.stdout.splitlines()[0] == "lane: docs"
    result = workflow(repo.path, "lane", "--changed-files", "-", stdin="README.md\n")
    assert result.stdout.splitlines()[0] == "lane: standard"


def test_the_configuration_directory_is_the_project(work: Repo) -> None:
    work.commit({"service/workflow.toml": "", "service/docs/a.md": "A.\n"})
    work.git("push", "-q", "origin", "topic")
    work.commit({"service/docs/b.md": "B.\n", "src/app.py": "print(1)\n"})
    config = work.path / "service" / "workflow.toml"
    result = workflow(
        work.path, "lane", "--config", str(config), "--base", "origin/topic", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changed"] == ["docs/b.md"]


def test_outside_a_checkout_the_answer_is_heavy(tmp_path: Path) -> None:
    result = workflow(tmp_path, "lane", "--base", "main")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "lane: heavy",
        f"  because {tmp_path.resolve()} is not inside a git checkout, so every check runs",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("--base", ""),
        ("--changed-files", "missing.txt"),
        ("--pre-push", "--changed-files", "-"),
        ("--bogus",),
    ],
)
def test_usage_errors_exit_2_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = workflow(tmp_path, "lane", *args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_missing_changed_files_names_the_file(tmp_path: Path) -> None:
    result = workflow(tmp_path, "lane", "--changed-files", "missing.txt")
    assert result.stderr.strip() == (
        "workflow: --changed-files: cannot read missing.txt: No such file or directory."
    )


def median_cpu_seconds(*args: str, runs: int = 5) -> float:
    """The median CPU seconds of `workflow ARGS` and every process it waited for (git)."""
    used = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = workflow(REPOSITORY, *args)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        assert result.returncode == 0, result.stderr
    return statistics.median(used)


def test_lane_costs_little_more_than_reading_the_configuration() -> None:
    # The absolute target (under 0.5 s) depends on the machine; what lane detection adds
    # to loading the configuration (which `validate` also does) is what this test holds.
    # It is counted in CPU seconds, which other work on the machine does not stretch the
    # way it stretches wall time.
    validate = median_cpu_seconds("validate")
    lane = median_cpu_seconds("lane")
    assert lane - validate < 0.15, (validate, lane)
