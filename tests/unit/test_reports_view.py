"""What every report shows: cleaned, masked text; log tails; the outcome word."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from orchestrator.model.masking import Masker
from orchestrator.model.records import StageStatus
from reports.view import TAIL_BYTES, TAIL_LINES, build_view, clean, outcome, read_tail
from tests.helpers.reports_samples import HIDDEN, record, sample_run, stage


def test_clean_drops_terminal_escapes_progress_and_controls() -> None:
    raw = "\x1b[1;31mFAILED\x1b[0m a\x00b\nloading 10%\rloading 100%\r\ndone\x1b]0;title\x07"
    assert clean(raw, None) == "FAILED ab\nloading 100%\ndone"
    assert clean("50%\r100%\r", None) == "100%"


def test_clean_masks_a_secret_split_by_colour_codes() -> None:
    assert clean("tok\x1b[0men=abcd1234", Masker(["abcd1234"])) == "token=***"


def test_a_tail_is_the_last_lines_masked(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "unit.log"
    log.parent.mkdir()
    log.write_text("".join(f"line {i} {HIDDEN}\n" for i in range(100)))
    tail = read_tail(tmp_path, "logs/unit.log", Masker([HIDDEN]))
    assert tail is not None
    lines = tail.split("\n")
    assert len(lines) == TAIL_LINES
    assert lines[-1] == "line 99 ***"
    assert HIDDEN not in tail


def test_a_huge_log_is_read_from_its_end_and_the_cut_line_dropped(tmp_path: Path) -> None:
    # The cut may fall inside a secret; its second half must not leak unmasked.
    log = tmp_path / "big.log"
    log.write_bytes(b"x" * (TAIL_BYTES * 4) + HIDDEN.encode() + b"\nlast line\n")
    tail = read_tail(tmp_path, "big.log", Masker([HIDDEN]))
    assert tail == "last line"


def test_a_log_outside_the_run_directory_is_not_read(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (tmp_path / "private.txt").write_text("not yours\n")
    assert read_tail(run_dir, "../private.txt", None) is None
    assert read_tail(run_dir, str(tmp_path / "private.txt"), None) is None
    assert read_tail(run_dir, "missing.log", None) is None
    assert read_tail(run_dir, None, None) is None
    assert read_tail(run_dir, "bad\x00name.log", None) is None


@pytest.mark.parametrize(
    ("exit_code", "key"),
    [(0, "passed"), (1, "failed"), (3, "sla"), (130, "interrupted"), (None, "incomplete")],
)
def test_the_outcome_follows_the_exit_code(exit_code: int | None, key: str) -> None:
    assert outcome(record(stage("a"), exit_code=exit_code)).key == key


def test_the_view_masks_every_free_text_and_reads_only_failed_tails(tmp_path: Path) -> None:
    run = replace(sample_run(tmp_path), lane_reasons=(f"changed {HIDDEN}",), run_id=f"id-{HIDDEN}")
    view = build_view(run, tmp_path, Masker([HIDDEN]))
    assert HIDDEN not in json.dumps(view.record.to_dict())
    assert view.record.lane_reasons == ("changed ***",)
    tails = {row.name: row.tail for row in view.stages}
    assert tails["lint"] is None
    assert tails["unit"] is not None
    assert "***" in tails["unit"]
    assert [row.name for row in view.failing] == ["unit", "integration"]
    assert view.count(StageStatus.PASSED) == 2


def test_enum_fields_survive_a_secret_that_equals_their_value(tmp_path: Path) -> None:
    view = build_view(sample_run(tmp_path), tmp_path, Masker(["passed", "critical"]))
    assert view.stages[0].status is StageStatus.PASSED
