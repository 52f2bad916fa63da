"""The record's `host`: whole usable cores, the cgroup quota apart, older records upgraded."""

from __future__ import annotations

import json

import pytest

from orchestrator.engine.scheduling.host import host_record, runner_class
from orchestrator.engine.scheduling.sizing import Machine, read_machine
from orchestrator.model.records import upgraded


@pytest.mark.parametrize(
    ("affinity", "quota", "cores"),
    [(2, None, 2), (8, 1.5, 1), (8, 0.5, 1), (4, 6.0, 4), (16, 2.99, 2)],
)
def test_usable_cores_are_whole_and_at_least_one(
    affinity: int, quota: float | None, cores: int
) -> None:
    machine = Machine(affinity, quota, memory_available=2**30, memory_total=2**31)
    host = host_record(machine, {})
    assert host.cpus == cores
    assert type(host.cpus) is int
    assert host.cpu_quota == quota
    assert f"| {cores} cores" in runner_class(machine, {})


def test_the_written_host_has_an_integer_cpus() -> None:
    written = json.loads(json.dumps(host_record(read_machine(), {}).__dict__))
    assert isinstance(written["cpus"], int)
    assert written["cpus"] >= 1
    assert "cpu_quota" in written


@pytest.mark.parametrize(
    ("older", "now"),
    [
        ({"cpus": 2.0}, {"cpus": 2}),
        ({"cpus": 1.5}, {"cpus": 1, "cpu_quota": 1.5}),
        ({"cpus": 0.5}, {"cpus": 1, "cpu_quota": 0.5}),
        ({"cpus": 4}, {"cpus": 4}),
        ({"cpus": 1.5, "cpu_quota": 1.5}, {"cpus": 1, "cpu_quota": 1.5}),
    ],
)
def test_older_host_records_are_upgraded(older: dict[str, object], now: object) -> None:
    assert upgraded({"run_id": "r", "host": older})["host"] == now
