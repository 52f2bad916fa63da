"""The installed `workflow` command, run as a real subprocess."""

from __future__ import annotations

from pathlib import Path

from orchestrator import __version__
from tests.integration.command import workflow

REPO = Path(__file__).parents[2]


def test_version() -> None:
    result = workflow(REPO, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"workflow {__version__}"


def test_validate_the_repository() -> None:
    result = workflow(REPO, "validate")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_validate_reports_three_mistakes_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[stages.lint]\nrun = "ruff"\nretries = -1\n'
        '[stages.unit]\nrun = "pytest"\nneeds = ["lnit"]\n'
        '[detect]\nheavy_lines = "many"\n'
    )
    result = workflow(REPO, "validate", "--config", str(config))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    detail_lines = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(detail_lines) == 3, result.stderr
    for key in ("stages.lint.retries", "stages.unit.needs", "detect.heavy_lines"):
        assert any(key in line for line in detail_lines), (key, result.stderr)


def test_dry_run_prints_the_plan(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text(
        '[stages.lint]\nrun = "ruff check ."\nkind = "cpu"\n'
        '[stages.unit]\nrun = "pytest"\nneeds = ["lint"]\n'
        "[lanes.heavy]\nstage_sla = 45\nsla = { unit = 90 }\n"
    )
    result = workflow(tmp_path, "run", "--dry-run", "--lane", "heavy")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "lane: heavy (forced)" in out
    assert out.index("lint: SLA 45s") < out.index("unit: SLA 90s")
    assert "after lint" in out


def test_dry_run_says_what_the_built_in_security_stage_fails_on(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    result = workflow(tmp_path, "run", "--dry-run", "--lane", "heavy")
    assert result.returncode == 0, result.stderr
    security = result.stdout[result.stdout.index("6 security:") :].splitlines()
    assert "bandit -q -ll -r pkg" in security[0]
    assert security[1].strip() == (
        "fails on bandit findings of medium severity and above; lower ones are not reported"
    )


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[stages.lint]\nrun = "true"\n')
    for args in (
        ("run", "--dry-run", "--only", "nope"),
        ("run", "--dry-run", "--workers", "0"),
        ("run", "--dry-run", "--strategy", "fast"),
        ("run", "--dry-run", "--format", "pdf"),
    ):
        result = workflow(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


def test_an_unknown_stage_is_named_with_the_option_that_asked_for_it(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text('[stages.lint]\nrun = "true"\n')
    for command in ("run", "profile"):
        result = workflow(tmp_path, command, "--only", "nope")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "workflow: --only: no stage named 'nope' (stages: lint)."
        ), result.stderr


def test_toml_syntax_error_exit_2(tmp_path: Path) -> None:
    (tmp_path / "workflow.toml").write_text("[stages.lint\n")
    result = workflow(tmp_path, "validate")
    assert result.returncode == 2
    assert "line 1, column" in result.stderr
    assert "Traceback" not in result.stderr
