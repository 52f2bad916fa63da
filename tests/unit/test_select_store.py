"""The dependency map in the history: compact, merged run by run, bounded."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.history.depmap import (
    LearnedTest,
    MapUpdate,
    decode,
    encode,
    known_sources,
    load_map,
    remember_sources,
    save_map,
)
from orchestrator.model.imports import closure, import_edges, imported_names, module_name
from orchestrator.model.selection import PieceVersion
from orchestrator.model.selectrules import Baseline

BASE = Baseline(inputs={"a.py": "100644 x"}, environment={}, config="c", pytest_config="p")


@given(st.sets(st.integers(0, 2**31)))
def test_a_set_of_ids_survives_its_blob(ids: set[int]) -> None:
    assert decode(encode(ids)) == ids


def piece(name: str, fp: str = "f1") -> PieceVersion:
    return PieceVersion("src/m.py", name, fp)


def learned(*names: str, outcome: str = "passed") -> LearnedTest:
    return LearnedTest(outcome, frozenset(piece(n) for n in names), frozenset({piece("<module>")}))


def update(run: str, tests: dict[str, LearnedTest], *, complete: bool = True) -> MapUpdate:
    outcomes = {t: entry.outcome for t, entry in tests.items()}
    collected = frozenset(tests) if complete else None
    return MapUpdate(run, tests, outcomes, collected, BASE if complete else None, None)


def test_a_saved_map_reads_back_with_shared_sets(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    save_map(db, "unit", update("r1", {"t1": learned("f"), "t2": learned("f"), "t3": learned("g")}))
    stored = load_map(db, "unit")
    assert stored is not None and stored.baseline == BASE
    tests = stored.depmap.tests
    assert tests["t1"].sets == tests["t2"].sets  # one set, stored once
    assert tests["t1"].sets[1] == tests["t3"].sets[1]  # the same imports
    members = set().union(*(stored.depmap.sets[s] for s in tests["t3"].sets))
    assert {stored.depmap.versions[v] for v in members} == {piece("g"), piece("<module>")}


def test_a_later_run_replaces_its_tests_keeps_the_others_and_forgets_unused_versions(
    tmp_path: Path,
) -> None:
    db = tmp_path / "h.db"
    save_map(db, "unit", update("r1", {"t1": learned("f"), "t2": learned("g")}))
    newer = MapUpdate("r2", {"t1": learned("f2")}, {"t1": "passed"}, None, None, None)
    save_map(db, "unit", newer)
    stored = load_map(db, "unit")
    assert stored is not None
    assert stored.depmap.tests["t1"].run_id == "r2" and stored.depmap.tests["t2"].run_id == "r1"
    assert stored.baseline == BASE  # an incomplete run leaves the baseline as it was
    names = {v.name for v in stored.depmap.versions.values()}
    assert names == {"f2", "g", "<module>"}  # f is no one's any more


def test_a_failure_without_learning_marks_the_test_failed(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    save_map(db, "unit", update("r1", {"t1": learned("f")}))
    save_map(db, "unit", MapUpdate("r2", {}, {"t1": "failed"}, None, None, "no coverage"))
    stored = load_map(db, "unit")
    assert stored is not None
    assert stored.depmap.tests["t1"].outcome == "failed"
    assert stored.problem == "no coverage"


def test_a_complete_run_drops_tests_that_are_gone(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    save_map(db, "unit", update("r1", {"t1": learned("f"), "t2": learned("g")}))
    save_map(db, "unit", update("r2", {"t1": learned("f")}))
    stored = load_map(db, "unit")
    assert stored is not None and set(stored.depmap.tests) == {"t1"}
    assert load_map(db, "other") is None


def test_parsed_sources_are_remembered_by_key(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    assert known_sources(db, ["k1"]) == {}
    remember_sources(db, {"k1": "{}", "k2": "[]"})
    assert known_sources(db, ["k1", "k3"]) == {"k1": "{}"}


def test_imports_resolve_relative_names_and_follow_the_graph() -> None:
    modules = {"pkg": "src/pkg/__init__.py", "pkg.core": "src/pkg/core.py", "pkg.util": "u.py"}
    assert imported_names([(None, 1, ["core"])], "pkg", True) == {"pkg", "pkg.core"}
    assert imported_names([("util", 1, ["x"])], "pkg.core", False) >= {"pkg.util"}
    assert module_name("src/pkg/__main__.py", modules) == ("pkg.__main__", False)
    edges = import_edges(
        {
            "t.py": [("pkg", 0, [])],
            "src/pkg/__init__.py": [("core", 1, ["Parser"])],
            "src/pkg/core.py": [("util", 1, ["x"]), ("os", 0, [])],
        },
        modules,
    )
    assert closure({"t.py"}, edges) == {"t.py", "src/pkg/__init__.py", "src/pkg/core.py", "u.py"}
