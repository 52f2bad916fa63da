"""Configuration keys of single stages and shared resources: read, or refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.configfile.load import load_config
from tests.unit.test_config import problems, write


def test_junit_and_rerun_failed_are_read(tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text(
        '[stages.unit]\nrun = "pytest"\nrerun_failed = 2\njunit = false\n'
        '[stages.rust]\nrun = "cargo nextest run"\njunit = "target/nextest/junit.xml"\n'
    )
    stages = load_config(path).config.stages
    assert (stages["unit"].rerun_failed, stages["unit"].junit) == (2, False)
    assert (stages["rust"].rerun_failed, stages["rust"].junit) == (0, "target/nextest/junit.xml")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ('""', '""'),
        ('" "', '" "'),
        ('"x\\n::error::injected"', '"x\\n::error::injected"'),
        ('"bell\\u0007"', '"bell\\x07"'),
    ],
)
def test_stage_names_must_be_printable(tmp_path: Path, name: str, shown: str) -> None:
    lines = problems(tmp_path, f"[stages.{name}]\nrun = 'true'\n")
    assert len(lines) == 1, lines
    assert f": stages.{shown}: a stage name cannot" in lines[0], lines
    assert "\n" not in lines[0]


def test_resources_and_uses_are_read(tmp_path: Path) -> None:
    text = '[resources]\ndb = 1\nport = 2\n[stages.a]\nrun = "true"\nuses = ["db", "port"]\n'
    config = load_config(write(tmp_path, text)).config
    assert dict(config.resources) == {"db": 1, "port": 2}
    assert config.stages["a"].uses == ("db", "port")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[resources]\ndb = 0\n[stages.a]\nrun = "true"\n', "resources.db: must be greater than 0"),
        ('[resources]\ndb = "one"\n[stages.a]\nrun = "true"\n', "resources.db: must be an integer"),
        ('[stages.a]\nrun = "true"\nuses = ["db"]\n', 'stages.a.uses: "db" is not in [resources]'),
        (
            '[resources]\ndb = 1\n[stages.a]\nrun = "true"\nuses = ["bd"]\n',
            'stages.a.uses: "bd" is not in [resources] (db)',
        ),
        ('[resources]\ndb = 1\n[stages.a]\nrun = "true"\nuses = "db"\n', "stages.a.uses: must be"),
    ],
)
def test_resource_mistakes_name_their_key(tmp_path: Path, text: str, expected: str) -> None:
    lines = problems(tmp_path, text)
    assert len(lines) == 1
    assert expected in lines[0]
