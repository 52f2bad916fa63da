"""A split stage gives a core back to the pool as soon as one of its parts ends.

Real pool, real pytest parts. The split stage (two parts, budgeted two cores) starts
first on a two-core budget, so a CPU-bound stage beside it cannot start. Its first part
ends at once; its second waits for a file that only the other stage writes. The other
stage can start only on the core the first part gave back: if the core were held until
the split stage's last part ended, the second part would give up waiting and fail.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator.engine.spec import StageSpec
from orchestrator.model.splitplan import SplitPlan
from orchestrator.model.status import StageStatus
from tests.integration.pooling import py, run

pytestmark = pytest.mark.integration

WAITS = """
import time
from pathlib import Path


def test_sees_the_other_stage():
    marker = Path({marker!r})
    for _ in range(300):  # up to 30 s: the other stage starts once a core is free
        if marker.exists():
            return
        time.sleep(0.1)
    raise AssertionError("the other stage never started while this part ran")
"""


def test_a_part_that_ends_frees_its_core_for_another_stage(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tests / "test_quick.py").write_text("def test_quick():\n    pass\n")
    marker = tmp_path / "other-started"
    (tests / "test_wait.py").write_text(WAITS.format(marker=str(marker)))
    plan = SplitPlan(
        parts=2,
        files={"tests/test_quick.py": 0, "tests/test_wait.py": 1},
        loads_s=(0.1, 10.0),
        median_s=0.1,
    )
    argv = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    split = StageSpec(
        name="unit", number=2, command=argv, cwd=tmp_path, split=plan,
        kind="cpu", cpu_demand=2.0, expected_s=10.0,
    )  # fmt: skip
    other = StageSpec(
        name="lint", number=3, command=py(f"open({str(marker)!r}, 'w').close()"),
        kind="cpu", cpu_demand=1.0, expected_s=1.0,
    )  # fmt: skip
    records = run([split, other], tmp_path, strategy="adaptive", usable_cpus=2.0, initial_size=2)
    assert records["unit"].status is StageStatus.PASSED, records["unit"].error
    assert [part.status for part in records["unit"].parts] == [StageStatus.PASSED] * 2
    # The other stage started after the split stage, during its second part.
    second = records["unit"].parts[1]
    assert records["lint"].start_offset_s >= records["unit"].start_offset_s
    assert records["lint"].start_offset_s < second.start_offset_s + second.duration_s
