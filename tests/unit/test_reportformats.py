"""One list of report formats and one layout of the run directory, as every user reads them."""

from __future__ import annotations

from pathlib import Path

from orchestrator.model.filenames import RunDir, file_stem
from orchestrator.model.reportformats import (
    DEFAULT_FORMATS,
    FILE_NAMES,
    FORMATS,
    RECORD_FORMAT,
    RENDERED_FROM_RECORD,
)
from reports import ENGINE_WRITES, RENDERERS


def test_every_format_has_a_renderer_and_a_file_of_its_own() -> None:
    assert set(RENDERERS) == set(FORMATS) == set(FILE_NAMES)
    assert len(set(FILE_NAMES.values())) == len(FILE_NAMES)
    assert DEFAULT_FORMATS.split(",") == list(FORMATS)


def test_the_record_format_is_the_run_record_and_never_rendered_again() -> None:
    assert FILE_NAMES[RECORD_FORMAT] == RunDir.RECORD
    assert {RECORD_FORMAT} == ENGINE_WRITES
    assert RECORD_FORMAT not in RENDERED_FROM_RECORD
    assert set(RENDERED_FROM_RECORD) | {RECORD_FORMAT} == set(FORMATS)


def test_the_run_directory_names_each_file_once(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "20261207T000000.000000Z-abcdef")
    assert run.record == run.path / "run.json"
    assert run.log("unit tests") == run.logs / f"{file_stem('unit tests')}.log"
    assert run.log("unit").name == "unit.log"
    assert {run.logs.name, run.tests.name} == {"logs", "tests"}
