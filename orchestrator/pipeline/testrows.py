"""A run's per-test rows for the history: read back from each stage's JUnit file.

The run record carries only each stage's summary; the full list of tests is read again
from the JUnit file the summary names (lxml reads 2,000 tests in milliseconds), with the
tests that flipped on a rerun marked flaky.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from orchestrator.engine.pytest.junit import read_junit
from orchestrator.history.schema import HistoryError
from orchestrator.history.tests import ResultRow, record_tests
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, StageRecord
from orchestrator.model.splitplan import overhead_of
from orchestrator.model.stats import median
from orchestrator.model.testresults import TestCase, final_outcomes


def inputs_key(record: RunRecord, stage: StageRecord) -> str | None:
    """What the stage's results depend on: the result cache's key when the stage has one,
    else the commit when the tree was clean; None when neither is known.

    A stage the cache could not key has `cache.key` "": it must not key its rows, or every
    such run would share one key and a regression would look flaky.
    """
    if stage.cache is not None and stage.cache.key:
        return f"cache {stage.cache.key}"
    if record.git.sha and record.git.clean:
        return f"commit {record.git.sha}"
    return None


class StageTests(NamedTuple):
    """A run's rows for the history, and each stage's measured process overhead."""

    rows: list[ResultRow]
    overheads: dict[str, float]


def result_rows(record: RunRecord, run_dir: Path, masker: Masker) -> StageTests:
    """Every test of every stage that left a JUnit file, as history rows, ids masked;
    and what each stage's pytest processes spent besides their tests (`overhead_of`)."""
    rows: list[ResultRow] = []
    overheads: dict[str, float] = {}
    for stage in record.stages:
        summary = stage.tests
        # A split stage's tests are in its parts' files (`junit` of each part).
        files = [part.junit for part in stage.parts] if stage.parts else [None]
        if summary is None or (not any(files) and summary.junit is None):
            continue
        read = [
            (read_junit(run_dir / junit) or []) if junit is not None else []
            for junit in (files if stage.parts else [summary.junit])
        ]
        overhead = process_overhead(stage, read)
        if overhead is not None:
            overheads[stage.name] = overhead
        cases = [case for part in read for case in part]
        key = inputs_key(record, stage)
        rows += [
            ResultRow(stage.name, masker.mask(case.id), case.outcome.value, case.duration_s, key)
            for case in final_outcomes(cases, summary.flaky)
        ]
    return StageTests(rows, overheads)


def process_overhead(stage: StageRecord, cases: list[list[TestCase]]) -> float | None:
    """Seconds each of the stage's pytest processes spent besides its tests (start-up,
    collection): its wall time minus its tests' times, the median over a split stage's
    parts (`cases`: each part's, or the whole stage's, in the order of `stage.parts`).

    None when the wall time holds more than one process's work (a retry or a rerun of
    failed tests), the result was reused from the cache, or no test was read: a split
    plan then estimates the overhead from the stage's expected wall time instead.
    """
    summary = stage.tests
    if stage.cache_hit or summary is None or summary.reruns or stage.attempts > 1:
        return None
    walls = [part.duration_s for part in stage.parts] if stage.parts else [stage.duration_s]
    spent = [
        overhead_of(wall, [case.duration_s for case in part])
        for wall, part in zip(walls, cases, strict=False)
        if part
    ]
    return round(median(spent), 4) if spent else None


def record_test_rows_safely(
    path: Path, record: RunRecord, run_dir: Path, masker: Masker
) -> str | None:
    """Record the run's test rows; on any problem, one sentence why (the run stands)."""
    rows, overheads = result_rows(record, run_dir, masker)
    if not rows:
        return None
    try:
        record_tests(path, record.run_id, record.lane, rows, overheads)
    except HistoryError as exc:
        return f"per-test history not written: {exc.message.rstrip('.')}."
    except Exception as exc:  # a broken history must never fail the run it describes
        return f"per-test history not written: {path}: {type(exc).__name__}: {exc}."
    return None
