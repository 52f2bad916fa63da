"""Whether the OOM killer ended a stage (engine/proc/oom.py), from the kernel's own counters.

The cgroup files are laid out in tmp_path as the kernel lays them out under
/sys/fs/cgroup (this machine's own OOM killer is not set off by a test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.engine.proc import oom
from orchestrator.engine.proc.oom import OomCounter, counter_for, oom_cause, read_kills

V2_EVENTS = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"
V1_CONTROL = "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"


def test_cgroup_v2_and_v1_counters_are_found_for_this_processs_cgroup(tmp_path: Path) -> None:
    v2 = tmp_path / "job" / "runner"
    v2.mkdir(parents=True)
    (v2 / "memory.events").write_text(V2_EVENTS)
    found = counter_for(["0::/job/runner"], tmp_path)
    assert found == OomCounter(v2 / "memory.events", scoped=True)
    assert read_kills(v2 / "memory.events") == 1
    v1 = tmp_path / "memory" / "session"
    v1.mkdir(parents=True)
    (v1 / "memory.oom_control").write_text(V1_CONTROL)
    lines = ["9:name=systemd:/", "4:memory:/session", "0::/"]
    assert counter_for(lines, tmp_path) == OomCounter(v1 / "memory.oom_control", scoped=True)
    assert read_kills(v1 / "memory.oom_control") == 4
    assert counter_for(["4:memory:/missing"], tmp_path) is None


def test_a_rise_during_a_failed_stage_is_the_oom_killer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "memory.events"
    events.write_text(V2_EVENTS)
    monkeypatch.setattr(oom, "this_counter", lambda: OomCounter(events, scoped=True))
    assert oom_cause(1, killed_by_sigkill=False) is None  # nothing rose
    events.write_text(V2_EVENTS.replace("oom_kill 1", "oom_kill 2"))
    assert oom_cause(1, killed_by_sigkill=False) == (
        "the OOM killer ended a process (memory.events oom_kill rose by 1)"
    )


def test_a_machine_wide_counter_needs_the_stage_itself_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vmstat = tmp_path / "vmstat"
    vmstat.write_text("pgfault 10\noom_kill 7\n")
    monkeypatch.setattr(oom, "this_counter", lambda: OomCounter(vmstat, scoped=False))
    # Another process on the machine was killed while this stage failed on its own.
    assert oom_cause(6, killed_by_sigkill=False) is None
    assert oom_cause(6, killed_by_sigkill=True) == (
        "the OOM killer ended a process (/proc/vmstat oom_kill rose by 1)"
    )
    assert oom_cause(None, killed_by_sigkill=True) is None


def test_this_machines_counter_is_readable() -> None:
    # Linux 4.13+ counts OOM kills in /proc/vmstat at least; cgroup v1 or v2 when mounted.
    counter = oom.this_counter()
    assert counter is not None
    assert read_kills(counter.path) is not None
