"""The one reader and writer of "K/N" labels: what it accepts, and that every label it
writes reads back as itself."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.partlabel import PartLabel, label_total
from orchestrator.model.shardplan import Shard, parse_shard
from orchestrator.model.splitplan import parse_entry, part_entry


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_every_written_label_reads_back_as_itself(pair: tuple[int, int]) -> None:
    label = PartLabel(*pair)
    assert PartLabel.parse(str(label)) == label
    assert parse_shard(str(label)) == pair
    assert Shard(pair[0], pair[1], (), 0.0).label == str(label)
    assert parse_entry(part_entry("unit", pair[0] - 1, pair[1])) == ("unit", pair[0] - 1, pair[1])


@pytest.mark.parametrize("text", ["", "3", "0/3", "4/3", "a/3", "2/", "/3", "-1/3", "2/3/4", None])
def test_what_is_not_a_label(text: str | None) -> None:
    assert PartLabel.parse(text) is None
    assert label_total(text) is None


def test_labels_order_by_number_then_total_and_allow_spaces() -> None:
    assert PartLabel.parse(" 2 / 3") == PartLabel(2, 3)
    assert label_total("2/3") == 3
    assert sorted([PartLabel(10, 12), PartLabel(2, 12)]) == [PartLabel(2, 12), PartLabel(10, 12)]
    assert PartLabel.of(0, 4) == PartLabel(1, 4)
