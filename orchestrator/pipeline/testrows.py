"""A run's per-test rows for the history: read back from each stage's JUnit file.

The run record carries only each stage's summary; the full list of tests is read again
from the JUnit file the summary names (lxml reads 2,000 tests in milliseconds), with the
tests that flipped on a rerun marked flaky.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.junit import read_junit
from orchestrator.history.schema import HistoryError
from orchestrator.history.tests import ResultRow, record_tests
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, StageRecord
from orchestrator.model.testresults import final_outcomes


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


def result_rows(record: RunRecord, run_dir: Path, masker: Masker) -> list[ResultRow]:
    """Every test of every stage that left a JUnit file, as history rows, ids masked."""
    rows: list[ResultRow] = []
    for stage in record.stages:
        summary = stage.tests
        # A split stage's tests are in its parts' files (`junit` of each part).
        files = [part.junit for part in stage.parts] if stage.parts else [None]
        if summary is None or (not any(files) and summary.junit is None):
            continue
        cases = [
            case
            for junit in (files if stage.parts else [summary.junit])
            if junit is not None
            for case in read_junit(run_dir / junit, pytest=True) or []
        ]
        key = inputs_key(record, stage)
        rows += [
            ResultRow(stage.name, masker.mask(case.id), case.outcome.value, case.duration_s, key)
            for case in final_outcomes(cases, summary.flaky)
        ]
    return rows


def record_test_rows_safely(
    path: Path, record: RunRecord, run_dir: Path, masker: Masker
) -> str | None:
    """Record the run's test rows; on any problem, one sentence why (the run stands)."""
    rows = result_rows(record, run_dir, masker)
    if not rows:
        return None
    try:
        record_tests(path, record.run_id, record.lane, rows)
    except HistoryError as exc:
        return f"per-test history not written: {exc.message.rstrip('.')}."
    except Exception as exc:  # a broken history must never fail the run it describes
        return f"per-test history not written: {path}: {type(exc).__name__}: {exc}."
    return None
