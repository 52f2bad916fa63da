"""How much machine the run may use: usable cores, memory, and the pool size that follows.

`os.cpu_count()` reports the host's cores even inside a container limited to two, or a
job pinned to one; the affinity mask and the cgroup quota tell the truth.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.model.config import Strategy, Workers
from orchestrator.model.strategies import rules_for

_CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")
_CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
_CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
_MEMINFO = Path("/proc/meminfo")
_DEFAULT_STAGE_RSS = 512 * 1024 * 1024  # assumed per stage when history has no figure


@dataclass(frozen=True)
class Machine:
    """What the run may use, and where each figure came from."""

    affinity_cpus: int
    quota_cpus: float | None
    memory_available: int
    memory_total: int

    @property
    def usable_cpus(self) -> float:
        """The smaller of the affinity mask and the cgroup quota, in cores (may be
        fractional: a quota of 1.5 is what the scheduler budgets)."""
        if self.quota_cpus is None:
            return float(self.affinity_cpus)
        return max(0.1, min(float(self.affinity_cpus), self.quota_cpus))

    @property
    def usable_cores(self) -> int:
        """Whole cores the run may keep busy: `usable_cpus` rounded down, at least 1.

        The record's `host.cpus` (DESIGN.md: a count of usable cores); the fractional
        quota is kept apart as `host.cpu_quota`.
        """
        return max(1, math.floor(self.usable_cpus))

    def describe(self) -> str:
        """One phrase for the sizing reason."""
        quota = (
            "no cgroup quota" if self.quota_cpus is None else f"cgroup quota {self.quota_cpus:g}"
        )
        gib = self.memory_available / 2**30
        return (
            f"{self.usable_cpus:g} usable cores (affinity {self.affinity_cpus}, {quota}), "
            f"{gib:.1f} GiB available"
        )


def read_machine() -> Machine:
    """Read the affinity mask, cgroup CPU quota and memory of this process."""
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        affinity = os.cpu_count() or 1
    available, total = memory_figures()
    return Machine(
        affinity_cpus=affinity,
        quota_cpus=cgroup_quota_cpus(),
        memory_available=available,
        memory_total=total,
    )


def memory_figures() -> tuple[int, int]:
    """(available, total) bytes of memory: /proc/meminfo on Linux, else psutil.

    Read directly because this runs before the first stage starts, and psutil costs more
    to import than the whole file costs to read.
    """
    try:
        fields = dict(
            line.split(":", 1)
            for line in _MEMINFO.read_text(encoding="ascii").splitlines()
            if ":" in line
        )
        return _kib(fields["MemAvailable"]), _kib(fields["MemTotal"])
    except (OSError, KeyError, ValueError, UnicodeDecodeError):
        import psutil  # noqa: PLC0415 - only where /proc/meminfo is missing

        memory = psutil.virtual_memory()
        return int(memory.available), int(memory.total)


def _kib(value: str) -> int:
    number, _, unit = value.strip().partition(" ")
    return int(number) * (1024 if unit.strip().lower() == "kb" else 1)


def cgroup_quota_cpus() -> float | None:
    """The CPU quota of this cgroup in cores, or None when unlimited or unknown."""
    try:
        if _CGROUP_V2_MAX.is_file():
            return parse_cpu_max(_CGROUP_V2_MAX.read_text(encoding="ascii"))
        if _CGROUP_V1_QUOTA.is_file():
            quota = int(_CGROUP_V1_QUOTA.read_text(encoding="ascii"))
            period = int(_CGROUP_V1_PERIOD.read_text(encoding="ascii"))
            return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None
    return None


def parse_cpu_max(text: str) -> float | None:
    """`cpu.max` holds "max 100000" (no limit) or "<quota> <period>" in microseconds."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    quota, period = int(parts[0]), int(parts[1])
    return quota / period if quota > 0 and period > 0 else None


@dataclass(frozen=True)
class StageDemand:
    """What one stage is expected to need while it runs."""

    name: str
    cpu_bound: bool
    peak_rss: int | None = None


def size_pool(
    strategy: Strategy, requested: Workers, demands: list[StageDemand], machine: Machine
) -> tuple[int, str]:
    """The number of workers and a sentence saying why."""
    count = max(1, len(demands))
    rules = rules_for(strategy)
    if rules.one_worker:
        return 1, "sequential strategy: one stage at a time, in order"
    if requested != "auto":
        return requested, f"{strategy.value} strategy with {requested} workers as configured"
    cores = machine.usable_cpus
    cpu_bound = sum(1 for demand in demands if demand.cpu_bound)
    io_bound = count - cpu_bound
    by_cpu = max(1, math.floor(cores)) + io_bound
    rss = max((d.peak_rss or _DEFAULT_STAGE_RSS for d in demands), default=_DEFAULT_STAGE_RSS)
    by_memory = max(1, machine.memory_available // max(rss, 1))
    workers = int(min(count, by_cpu, by_memory))
    limit = "memory" if by_memory < min(count, by_cpu) else "cores" if by_cpu < count else "stages"
    reason = (
        f"{strategy.value} strategy: {machine.describe()}; {count} stages "
        f"({cpu_bound} CPU-bound, {io_bound} I/O-bound) -> {workers} workers, limited by "
        f"{limit}"
    )
    if rules.budget_cores:
        reason += (
            f"; CPU-bound stages admitted up to {cores:g} cores at a time, longest first, "
            "and those expected to end well before the longest running one at a lower "
            "priority (nice), so that it is not slowed"
        )
    return workers, reason
