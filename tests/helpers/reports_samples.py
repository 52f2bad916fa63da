"""Hand-built run records shared by the SLA and report tests.

Builders, not fixtures: each test states the numbers that matter to it and leaves the rest
to these defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.engine.scheduling.replay import replay_record
from orchestrator.model.records import (
    GitRecord,
    HostRecord,
    PoolRecord,
    RunRecord,
    StageRecord,
    StageStatus,
)
from sla.bottlenecks import attach_bottlenecks
from sla.targets import SlaPolicy
from sla.verdict import apply_sla

HIDDEN = "ghp_S3cr3tT0kenValue42"
SCRIPT = "<script>alert(1)</script>"
GIB = 1024**3


def stage(name: str, duration: float = 1.0, **fields: Any) -> StageRecord:
    """A passed stage called `name` that took `duration` seconds, unless told otherwise."""
    values: dict[str, Any] = {
        "number": 2,
        "name": name,
        "status": StageStatus.PASSED,
        "exit_code": 0,
        "attempts": 1,
        "duration_s": duration,
        "worker": "w1",
        "executor": "thread",
    }
    values.update(fields)
    return StageRecord(**values)


def record(*stages: StageRecord, **fields: Any) -> RunRecord:
    """A run of these stages on the standard lane, exit code 0 unless told otherwise."""
    values: dict[str, Any] = {
        "run_id": "20250102T030405Z-1a2b",
        "started_at": "2025-01-02T03:04:05+00:00",
        "lane": "standard",
        "lane_reasons": ("4 files changed, none of them heavy",),
        "strategy": "adaptive",
        "workers": 2,
        "stages": stages,
        "exit_code": 0,
    }
    values.update(fields)
    return RunRecord(**values)


def policy(**targets: float) -> SlaPolicy:
    """Duration targets per stage; `unit` is critical."""
    return SlaPolicy(targets_s=targets, critical=frozenset({"unit"}), budget_s=900.0)


def sample_run(run_dir: Path, *, hidden: str = HIDDEN) -> RunRecord:
    """A judged five-stage run with a failed stage whose log holds a script tag and a secret."""
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "unit.log").write_text(
        "collecting ... 120 items\n"
        f"\x1b[31mFAILED\x1b[0m tests/test_page.py::test_title - {SCRIPT}\n"
        f"using token {hidden} for the API\n"
        "1 failed, 119 passed in 38.20s\n",
        encoding="utf-8",
    )
    (logs / "integration.log").write_text("waiting for the database...\n", encoding="utf-8")
    stages = (
        stage("lint", 3.2, number=2, cpu_percent=95, peak_rss_bytes=80 * 2**20),
        stage("typecheck", 26.0, number=3, worker="w2", cpu_percent=99, peak_rss_bytes=400 * 2**20),
        stage(
            "unit",
            40.0,
            number=4,
            status=StageStatus.FAILED,
            exit_code=1,
            start_offset_s=3.3,
            cpu_percent=88,
            peak_rss_bytes=300 * 2**20,
            log="logs/unit.log",
            error=f"1 test failed: {SCRIPT}",
            needs=("lint",),
            command="pytest -q tests/unit",
        ),
        stage(
            "integration",
            30.0,
            number=5,
            status=StageStatus.TIMEOUT,
            exit_code=124,
            start_offset_s=26.1,
            worker="w2",
            cpu_percent=20,
            peak_rss_bytes=200 * 2**20,
            log="logs/integration.log",
            error="timed out after 30s",
        ),
        stage(
            "security",
            0.0,
            number=6,
            status=StageStatus.SKIPPED,
            exit_code=None,
            attempts=0,
            worker=None,
            executor=None,
        ),
    )
    run = record(
        *stages,
        exit_code=1,
        git=GitRecord(sha="0123456789abcdef0123456789abcdef01234567", branch="feature/x"),
        host=HostRecord(cpus=2, memory_bytes=4 * GIB, python="3.11.9"),
        pool=PoolRecord(
            total_duration_s=56.2,
            worker_utilization_percent=70.0,
            usable_cpus=2.0,
            sizing_reason="2 usable cores, 4 stages",
        ),
    )
    judged = apply_sla(run, policy(**{s.name: 30.0 for s in stages}))
    return attach_bottlenecks(judged, replay_record(judged))
