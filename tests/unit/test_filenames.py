"""Stage names to file stems: distinct names never share a file, whatever they hold."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.filenames import file_stem

SAFE = re.compile(r"[a-z0-9._-]+")


def test_a_plain_name_is_its_own_stem() -> None:
    assert file_stem("unit") == "unit"
    assert file_stem("type-check_2.x") == "type-check_2.x"


def test_the_two_colliding_names_get_two_files() -> None:
    # Before, both became "unit_tests.log".
    assert file_stem("unit tests") != file_stem("unit_tests")
    assert file_stem("unit tests").startswith("unit_tests-")


def test_case_alone_keeps_names_apart_on_case_insensitive_file_systems() -> None:
    assert file_stem("Unit").lower() != file_stem("unit").lower()


def test_a_300_character_name_is_bounded_and_readable() -> None:
    stem = file_stem("x" * 300)
    assert len(stem) <= 57
    assert stem.startswith("x" * 40 + "-")
    assert file_stem("x" * 300) != file_stem("x" * 299)


def test_a_plain_name_that_looks_hashed_cannot_meet_a_hashed_stem() -> None:
    hashed = file_stem("unit tests")
    assert file_stem(hashed) != hashed


@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300))
def test_distinct_names_give_distinct_safe_bounded_stems(first: str, second: str) -> None:
    stems = file_stem(first), file_stem(second)
    for stem in stems:
        assert SAFE.fullmatch(stem) and len(stem) <= 57
        assert not stem.startswith(".")
    if first != second:
        assert stems[0].lower() != stems[1].lower()
