"""Whether the parts of a split stage collected the same tests (pure).

Every part of a split stage collects the whole suite and keeps its share by id
(`engine/pytest/plugins/workflow_split.py`); that covers every test exactly once only if every
part collected the same ids. A suite whose ids differ from one process to the next (a
parametrization over random values, a set's order in an id, a file generated at
collection) breaks that silently: a test may run in two parts or in none. So each part
records how many tests it collected and a digest of their ids (`StagePart.collected`,
`StagePart.collection`), and the stage fails when they differ, in one run or across the
shards that ran its parts (DESIGN.md, "Nothing incomplete passes").
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.model.records import StagePart


def collection_error(parts: Sequence[StagePart]) -> str | None:
    """One line naming the parts whose collections differ; None when those that said
    what they collected agree."""
    told = [part for part in parts if part.collection is not None]
    if len({part.collection for part in told}) <= 1:
        return None
    shown = ", ".join(f"{part.part}: {part.collected} tests" for part in told)
    return (
        f"the parts collected different tests ({shown}): some may have run twice or not at "
        "all; make the test ids the same in every process (no random values in ids)"
    )
