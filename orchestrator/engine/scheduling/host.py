"""Facts about the machine a run used, so trends compare like with like."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from pathlib import Path

from orchestrator.engine.scheduling.sizing import Machine
from orchestrator.model.status import HostRecord


def cpu_model() -> str:
    """The CPU model name (Linux), else the platform's processor string."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or "unknown cpu"
    match = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else (platform.processor() or "unknown cpu")


def runner_class(machine: Machine, env: Mapping[str, str] | None = None) -> str:
    """OS, CPU model and usable cores, plus GitHub's runner labels when present."""
    env = os.environ if env is None else env
    parts = [platform.system().lower(), cpu_model(), f"{machine.usable_cores} cores"]
    for name in ("RUNNER_OS", "RUNNER_NAME"):
        if env.get(name):
            parts.append(f"{name.lower()}={env[name]}")
    return " | ".join(parts)


def host_record(machine: Machine, env: Mapping[str, str] | None = None) -> HostRecord:
    """The run record's `host`."""
    return HostRecord(
        cpus=machine.usable_cores,
        cpu_quota=machine.quota_cpus,
        memory_bytes=machine.memory_total,
        available_memory_bytes=machine.memory_available,
        python=platform.python_version(),
        runner_class=runner_class(machine, env),
    )
