"""The replay benchmark's own decisions: how it makes a change for real, which changes a
run's findings propose, and how it judges a prediction.

The benchmark itself runs projects for minutes; these tests check what it writes and
decides, with records built by hand.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from bench.bench_replay import Project, config_text, proposed
from bench.replay_cases import Case, label
from bench.replay_real import Stage
from orchestrator.model.whatif import WhatIf
from tests.unit.test_sla_schedule import sleeps

PROJECT = Project(
    "two-workers",
    (Stage("a", 3.0), Stage("b", 2.0), Stage("c", 1.2, needs=("a",)), Stage("d", 1.0)),
    2,
    "process",
    halve=("b",),
)


def config(change: WhatIf, tmp_path: Path) -> dict[str, dict[str, dict[str, object]]]:
    return tomllib.loads(config_text(PROJECT, change, tmp_path / "reports"))


def test_each_change_is_made_for_real_in_the_configuration(tmp_path: Path) -> None:
    plain = config(WhatIf(), tmp_path)
    assert plain["stages"]["b"]["run"][-1] == "import time; time.sleep(2.0)"  # type: ignore[index]
    assert plain["lanes"]["heavy"]["workers"] == 2
    halved = config(WhatIf(stage="b", factor=0.5), tmp_path)
    assert halved["stages"]["b"]["run"][-1] == "import time; time.sleep(1.0)"  # type: ignore[index]
    assert halved["stages"]["a"]["run"] == plain["stages"]["a"]["run"]
    free = config(WhatIf(stage="c", drop_needs=True), tmp_path)
    assert (free["stages"]["c"]["needs"], plain["stages"]["c"]["needs"]) == ([], ["a"])
    assert config(WhatIf(more_workers=1), tmp_path)["lanes"]["heavy"]["workers"] == 3


def test_the_findings_of_a_run_propose_their_changes_once() -> None:
    changes = proposed(PROJECT, sleeps())
    assert changes[0] == WhatIf(stage="b", factor=0.5)  # the project's own, first
    assert sorted(label(change) for change in changes) == ["halve a", "halve b", "halve d"]


def test_a_prediction_holds_within_ten_percent_or_a_third_of_a_second() -> None:
    case = Case("p", "halve b", base_s=4.0, predicted_s=3.2, measured_s=3.45)
    assert case.holds  # 0.25 s off: within 0.3 s
    assert not Case("p", "halve b", base_s=40.0, predicted_s=30.0, measured_s=34.0).holds
    missing = Case("p", "halve b", 4.0, 3.2, 3.2, finding_s=None, needs_finding=True)
    assert not missing.holds  # the finding the case needs is not there
