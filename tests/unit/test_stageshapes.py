"""A stage's record is built in one module from its spec: every kind of record says the
same about what the stage is, and what it runs is a typed fact, also for records written
before the fact existed."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.spec import StageSpec
from orchestrator.engine.stageshapes import Measured, record_of, unrun, unstarted
from orchestrator.model.records import record_from_data
from orchestrator.model.runs import Runs, runs_of, runs_of_display
from orchestrator.model.status import StageStatus
from tests.helpers.trends_data import run, stage

COMMANDS = st.sampled_from(
    [("pytest", "-q"), ("python3", "-m", "pytest", "tests"), ("ruff", "check", "."), None]
)


@given(COMMANDS, st.lists(st.sampled_from(["db", "gpu"]), unique=True), st.booleans())
def test_every_record_of_a_stage_says_the_same_about_what_it_is(
    command: tuple[str, ...] | None, uses: list[str], serial: bool
) -> None:
    spec = StageSpec(
        name="unit",
        number=3,
        command=command,
        call=None if command else "pkg.mod:check",
        kind="cpu",
        uses=tuple(uses),
        needs=("lint",),
        serial=serial,
        expected_s=4.0,
    )
    ran = record_of(spec, Measured(status=StageStatus.PASSED, exit_code=0, attempts=1))
    records = [ran, unrun(spec, Measured(status=StageStatus.PASSED, executor="cache"))]
    records.append(unstarted(spec, StageStatus.SKIPPED, "lint failed"))
    for record in records:
        facts = (record.number, record.name, record.kind, record.command, record.needs)
        assert facts == (3, "unit", "cpu", spec.display, ("lint",))
        assert (record.runs, record.uses) == (runs_of(command), tuple(uses))
    # Only a stage that ran was scheduled: the replay reads these back from it alone.
    assert (ran.serial, ran.expected_s) == (serial, 4.0)
    assert all((r.serial, r.expected_s) == (False, None) for r in records[1:])


@pytest.mark.parametrize(
    ("command", "runs"),
    [
        ("call pkg.mod:crunch", Runs.CALLABLE),
        ("python -m pytest -q tests", Runs.PYTEST),
        ("/venv/bin/py.test", Runs.PYTEST),
        ("ruff check .", Runs.COMMAND),
        ("sh -c 'unbalanced", Runs.COMMAND),
    ],
)
def test_a_record_written_before_runs_existed_reads_it_from_its_command(
    command: str, runs: Runs
) -> None:
    data = run(0, [replace(stage("unit", 1.0), command=command)]).to_dict()
    del data["stages"][0]["runs"]
    assert record_from_data(json.loads(json.dumps(data))).stages[0].runs is runs
    assert runs_of_display(command) is runs


def test_a_record_keeps_what_its_stage_ran_and_a_stage_without_a_command_says_nothing() -> None:
    written = run(0, [replace(stage("lint", 1.0), command="pytest", runs=Runs.COMMAND)]).to_dict()
    assert record_from_data(written).stages[0].runs is Runs.COMMAND  # never guessed again
    unknown = run(0, [stage("lint", 1.0)]).to_dict()
    del unknown["stages"][0]["runs"]
    assert record_from_data(unknown).stages[0].runs is None
