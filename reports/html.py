"""The HTML report: one self-contained page (inline CSS and SVG, no script, no network).

jinja2 autoescapes every value, so a stage that prints `<script>` shows it as text; the
page's Content-Security-Policy forbids scripts and remote loads should anything slip.
"""

from __future__ import annotations

from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord, StageStatus
from orchestrator.model.units import percent, seconds
from orchestrator.model.version import __version__
from reports.templating import cache_failure, environment
from reports.tests_view import stage_tests
from reports.timeline import BAR_H, build_timeline
from reports.view import build_view, memory_text, target_text

TEMPLATE = "report.html.j2"
_ENV = environment()
_ENV.filters.update(seconds=seconds, percent=percent)
_ENV.globals.update(target=target_text, memory=memory_text, Status=StageStatus)


def render_html(record: RunRecord, run_dir: Path, masker: Masker | None = None) -> str:
    """The report page; failed stages' log tails are read from `run_dir`."""
    view = build_view(record, run_dir, masker)
    return _ENV.get_template(TEMPLATE).render(
        view=view,
        timeline=build_timeline(view.stages),
        version=__version__,
        bar_h=BAR_H,
        tests=stage_tests(view.record),
    )


def prepare() -> None:
    """Load (and, the first time, compile) the template now, so rendering later is quick.

    `workflow run` calls this from a background thread while the stages run.
    """
    _ENV.get_template(TEMPLATE)


def template_cache_failure() -> tuple[Path, OSError] | None:
    """Where the compiled report template could not be cached, and why (None: it could)."""
    return cache_failure(_ENV)
