"""The report formats of a run: one list, read by the renderers, the run and the commands.

A new format is a name here (and its file name), its renderer in `reports/`, and
nothing else: `workflow run --format` and `workflow merge --format` accept it, their
default writes it, and `workflow report` can render it from a saved record. The list sits
in `model/` rather than `reports/` because the run's options name it on the way to the
first stage, which must not load the renderers.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.model.filenames import RunDir

RECORD_FORMAT = "json"  # the run record itself: written by the engine, never re-rendered
FORMATS: tuple[str, ...] = ("html", "md", RECORD_FORMAT, "junit")  # `--format`'s default order
FILE_NAMES: Mapping[str, str] = {
    "html": "report.html",
    "md": "report.md",
    RECORD_FORMAT: RunDir.RECORD,
    "junit": "junit.xml",
}
DEFAULT_FORMATS = ",".join(FORMATS)  # `--format`'s default: every format
# What `workflow report` renders from a saved record: every format but the record itself.
RENDERED_FROM_RECORD: tuple[str, ...] = tuple(f for f in FORMATS if f != RECORD_FORMAT)
