"""Finding kinds are named once (`model/findingkinds.py`): every timed kind has its
headline phrase, and the record's plain string reads back as the same kind."""

from __future__ import annotations

from orchestrator.model.findingkinds import TIMED_KINDS, FindingKind
from orchestrator.model.plain import to_data
from orchestrator.model.records import Bottleneck
from sla.headline import _CHANGE


def test_every_timed_kind_has_a_headline_phrase() -> None:
    assert set(TIMED_KINDS) <= set(_CHANGE), sorted(set(TIMED_KINDS) - set(_CHANGE))


def test_the_record_keeps_the_kind_as_its_plain_name() -> None:
    finding = Bottleneck(kind=FindingKind.QUEUE, stage="unit", detail="d", recommendation="r")
    assert to_data(finding)["kind"] == "queue"
    assert FindingKind(finding.kind) is FindingKind.QUEUE
