"""The run record as JSON, masked like every other report (the engine writes run.json)."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.model.masking import Masker
from orchestrator.model.records import RunRecord
from reports.view import scrub_record


def render_json(record: RunRecord, run_dir: Path, masker: Masker | None = None) -> str:
    """The record in its schema-1 JSON form, free text cleaned and masked."""
    del run_dir  # the record already names its logs; nothing is read
    return json.dumps(scrub_record(record, masker).to_dict(), indent=2) + "\n"
