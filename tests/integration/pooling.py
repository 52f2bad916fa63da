"""Running specs through a real AdaptiveWorkerPool, for the pool's integration tests."""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.engine.pool import AdaptiveWorkerPool
from orchestrator.engine.spec import StageSpec
from orchestrator.model.records import StageRecord

PY = sys.executable
STAGEFUNCS = "tests.integration.stagefuncs"
ROOT = Path(__file__).parents[2]


def py(code: str) -> tuple[str, ...]:
    return (PY, "-c", code)


def run(specs: list[StageSpec], tmp_path: Path, **options: object) -> dict[str, StageRecord]:
    # each test passes the pool's own keywords (strategy, fail_fast ...), typed per call
    pool = AdaptiveWorkerPool(log_dir=tmp_path / "logs", import_root=ROOT, **options)  # type: ignore[arg-type]  # see above
    for spec in specs:
        pool.submit(spec)
    try:
        pool.wait_all()
    finally:
        pool.shutdown()
    return {record.name: record for record in pool.results}
