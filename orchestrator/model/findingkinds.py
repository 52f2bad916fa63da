"""The kinds of bottleneck finding, named once.

A finding's `kind` is a plain string in the run record (`Bottleneck.kind`, so records
written before a kind existed, or by a newer version, still read back), but every rule
that makes one, and every table keyed by one, uses these members: a misspelt kind is a
name error, not a finding the headline silently fails to phrase. Timed kinds claim a
saving the replay computed (`sla/schedule.py`, `sla/slow_tests.py`); the others are
advice without a saving (`sla/resources.py`, `cpu_starved`).
"""

from __future__ import annotations

from enum import StrEnum


class FindingKind(StrEnum):
    """Each kind; the value is what the record and the reports carry."""

    CRITICAL_PATH = "critical_path"
    QUEUE = "queue"
    NEED_WAIT = "need_wait"
    CORE_WAIT = "core_wait"
    WORKER_WAIT = "worker_wait"
    SLOW_TESTS = "slow_tests"
    CPU_STARVED = "cpu_starved"
    STRATEGY_MISMATCH = "strategy_mismatch"
    WORKER_IDLE = "worker_idle"
    MEMORY = "memory"


TIMED_KINDS = frozenset(
    {
        FindingKind.CRITICAL_PATH,
        FindingKind.QUEUE,
        FindingKind.NEED_WAIT,
        FindingKind.CORE_WAIT,
        FindingKind.WORKER_WAIT,
        FindingKind.SLOW_TESTS,
    }
)
