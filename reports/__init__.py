"""Renderers that turn a run record into HTML, markdown, JSON and JUnit.

`RENDERERS` maps a `--format` name to a function of (record, run directory); the run
directory is where the stages' `log` paths point, for the log tails of failed stages.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from orchestrator.model.files import write_atomic
from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord
from orchestrator.model.reportformats import FILE_NAMES, RECORD_FORMAT
from orchestrator.model.writes import WriteWarnings
from reports.github import publish_github
from reports.html import render_html
from reports.jsonfile import render_json
from reports.junit import render_junit
from reports.markdown import render_markdown
from reports.terminal import print_run_summary, render_terminal_summary


class Renderer(Protocol):
    """Turns a record into one report's text; `masker` hides secrets in log tails."""

    def __call__(self, record: RunRecord, run_dir: Path, masker: Masker | None = None) -> str: ...


RENDERERS: dict[str, Renderer] = {
    "html": render_html,
    "md": render_markdown,
    "junit": render_junit,
    "json": render_json,
}
ENGINE_WRITES = frozenset({RECORD_FORMAT})  # run.json is the engine's record, rewritten per stage

__all__ = [
    "FILE_NAMES",
    "RENDERERS",
    "Renderer",
    "print_run_summary",
    "publish_github",
    "render_terminal_summary",
    "write_reports",
]


def write_reports(
    record: RunRecord,
    run_dir: Path,
    formats: Iterable[str],
    masker: Masker | None = None,
    warnings: WriteWarnings | None = None,
) -> list[Path]:
    """Write each asked-for report into `run_dir` (all but run.json); return their paths.

    With `warnings`, a report that cannot be written is noted there and the others are
    still written; without, the OSError propagates.
    """
    names = list(dict.fromkeys(formats))
    unknown = [name for name in names if name not in RENDERERS]
    if unknown:
        raise ValueError(f"unknown report format {', '.join(map(repr, unknown))}")
    written: list[Path] = []
    for name in names:
        if name in ENGINE_WRITES:
            continue
        path = run_dir / FILE_NAMES[name]
        text = RENDERERS[name](record, run_dir, masker=masker)
        if warnings is None:
            write_atomic(path, text)
        else:
            with warnings.guard("report", path):
                write_atomic(path, text)
        if path.is_file():
            written.append(path)
    return written
