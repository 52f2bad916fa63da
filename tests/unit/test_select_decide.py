"""Which known tests a change lets selection skip, and every reason for running all."""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.model.selection import (
    DepMap,
    PieceVersion,
    TestEntry,
    decide,
    explain_test,
)
from orchestrator.model.selectrules import Baseline, Now, environment_change, unmappable

CORE = "src/pkg/core.py"
VERSIONS = {
    1: PieceVersion(CORE, "Parser.parse", "p1"),
    2: PieceVersion(CORE, "add", "a1"),
    3: PieceVersion(CORE, "<module>", "m1"),
    4: PieceVersion("tests/data/x.json", "<file>", "100644 abc"),
    5: PieceVersion("tests/test_a.py", "test_parse", "t1"),
}
SETS = {10: frozenset({1, 5}), 11: frozenset({2}), 12: frozenset({3}), 13: frozenset({4})}


def depmap(**outcomes: str) -> DepMap:
    tests = {
        "t::parse": TestEntry(outcomes.get("parse", "passed"), "r1", (10, 12)),
        "t::add": TestEntry(outcomes.get("add", "passed"), "r1", (11, 12)),
        "t::load": TestEntry(outcomes.get("load", "passed"), "r1", (13, 12)),
    }
    return DepMap(VERSIONS, SETS, tests)


def current(changes: Mapping[tuple[str, str], str | None]):  # type: ignore[no-untyped-def]
    def now(path: str, name: str) -> str | None:
        if (path, name) in changes:
            return changes[path, name]
        return next(v.fingerprint for v in VERSIONS.values() if (v.path, v.name) == (path, name))

    return now


def test_nothing_changed_skips_every_test_that_passed() -> None:
    decision = decide(depmap(), current({}))
    assert decision.skip == {"t::parse", "t::add", "t::load"}
    assert decision.reason == "nothing a known test depends on changed"


def test_a_changed_function_runs_the_tests_that_ran_it_and_names_it() -> None:
    decision = decide(depmap(), current({(CORE, "Parser.parse"): "p2"}))
    assert decision.skip == {"t::add", "t::load"}
    assert decision.why == {"t::parse": "src/pkg/core.py: Parser.parse changed"}
    assert decision.reason == "changed: src/pkg/core.py: Parser.parse"


def test_a_module_body_change_runs_every_importer() -> None:
    decision = decide(depmap(), current({(CORE, "<module>"): "m2"}))
    assert decision.skip == frozenset()
    assert decision.changed == ("src/pkg/core.py: <module>",)


def test_a_removed_piece_or_a_changed_data_file_counts_as_changed() -> None:
    gone = decide(depmap(), current({(CORE, "add"): None}))
    assert gone.skip == {"t::parse", "t::load"}
    data = decide(depmap(), current({("tests/data/x.json", "<file>"): "100644 def"}))
    assert data.skip == {"t::parse", "t::add"}
    assert data.reason == "changed: tests/data/x.json"


def test_a_test_that_failed_runs_again_whatever_changed() -> None:
    decision = decide(depmap(add="failed"), current({}))
    assert "t::add" not in decision.skip
    assert decision.why["t::add"] == "it failed in run r1"


def test_an_opaque_test_always_runs() -> None:
    tests = {"t::cli": TestEntry("passed", "r1", (11,), opaque="it starts python -I")}
    decision = decide(DepMap(VERSIONS, SETS, tests), current({}))
    assert decision.skip == frozenset()
    assert "always runs" in decision.reason


def test_run_all_skips_nothing_and_says_why() -> None:
    decision = decide(depmap(), current({}), "a conftest.py changed: tests/conftest.py")
    assert decision.skip == frozenset()
    assert decision.reason == "everything runs: a conftest.py changed: tests/conftest.py"


def test_explain_names_the_changed_piece_or_what_was_unchanged() -> None:
    now = current({(CORE, "Parser.parse"): "p2"})
    decision = decide(depmap(), now)
    runs = explain_test(depmap(), now, decision, "t::parse")
    assert runs[0] == "t::parse: would run: src/pkg/core.py: Parser.parse changed"
    assert "  changed: src/pkg/core.py: Parser.parse" in runs
    skipped = explain_test(depmap(), now, decision, "t::add")
    assert skipped[0].startswith("t::add: would be skipped: it passed in run r1")
    assert "  src/pkg/core.py: add" in skipped
    assert explain_test(depmap(), now, decision, "t::new")[0].endswith(
        "it is new (no run of it is in the map)"
    )


@settings(max_examples=100, deadline=None)
@given(st.sets(st.sampled_from(sorted(VERSIONS)), max_size=5))
def test_a_test_is_skipped_exactly_when_none_of_its_pieces_changed(stale: set[int]) -> None:
    now = current({(VERSIONS[v].path, VERSIONS[v].name): "new" for v in stale})
    decision = decide(depmap(), now)
    for test, entry in depmap().tests.items():
        members = set().union(*(SETS[s] for s in entry.sets))
        assert (test in decision.skip) == (not members & stale)


BASE = Baseline(
    inputs={
        "src/pkg/core.py": "100644 a",
        "tests/conftest.py": "100644 b",
        "README.md": "100644 c",
    },
    environment={"python": "3.11.7", "dist:attrs": "23.1.0"},
    config="c1",
    pytest_config="p1",
    plugins=frozenset({"tests/conftest.py", "tools/plug.py"}),
)


def now(**changes: object) -> Now:
    inputs = dict(BASE.inputs)
    inputs.update(changes.pop("inputs", {}))  # type: ignore[call-overload]
    for gone in changes.pop("removed", ()):  # type: ignore[attr-defined]
        inputs.pop(gone)
    values = {
        "environment": BASE.environment,
        "config": BASE.config,
        "pytest_config": BASE.pytest_config,
        **changes,
    }
    return Now(inputs=inputs, **values)  # type: ignore[arg-type]


def test_each_change_the_map_cannot_place_is_named() -> None:
    known = depmap()
    assert unmappable(BASE, now(), known) is None
    assert unmappable(None, now(), known) == (
        "no usable map yet: no complete run of this stage has been learned"
    )
    assert unmappable(BASE, now(config="c2"), known) == "workflow's configuration changed"
    assert unmappable(BASE, now(pytest_config="p2"), known) == "pytest's configuration changed"
    assert unmappable(
        BASE, now(environment={"python": "3.11.7", "dist:attrs": "23.2.0"}), known
    ) == ("attrs changed: 23.1.0 -> 23.2.0")
    conftest = now(inputs={"tests/conftest.py": "100644 z"})
    assert unmappable(BASE, conftest, known) == "a conftest.py changed: tests/conftest.py"
    plugin = now(inputs={"tools/plug.py": "100644 z"})
    assert unmappable(BASE, plugin, known) == "a pytest plugin changed: tools/plug.py"
    readme = now(inputs={"README.md": "100644 z"})
    assert unmappable(BASE, readme, known) == (
        "a file that no test is known to read changed: README.md"
    )
    added = now(inputs={"src/pkg/extra.py": "100644 z"})
    assert unmappable(BASE, added, known) == (
        "a new Python module that no test is known to import: src/pkg/extra.py"
    )


def test_changes_the_map_places_are_left_to_it() -> None:
    known = depmap()
    assert unmappable(BASE, now(inputs={"src/pkg/core.py": "100644 z"}), known) is None
    assert unmappable(BASE, now(inputs={"tests/data/x.json": "100644 z"}), known) is None
    assert unmappable(BASE, now(inputs={"tests/test_new.py": "100644 z"}), known) is None
    assert unmappable(BASE, now(removed=["README.md"]), known) is not None  # unknown, gone


def test_environment_changes_are_named() -> None:
    assert environment_change({"python": "3.11.7"}, {"python": "3.11.8"}) == (
        "the interpreter changed: 3.11.7 -> 3.11.8"
    )
    assert environment_change({}, {"dist:six": "1.0"}) == "six was installed (1.0)"
    assert environment_change({"dist:six": "1.0"}, {}) == "six was removed (was 1.0)"
    assert environment_change({"a": "1"}, {"a": "1"}) is None
    # As the cache key labels every environment on the stage's PATH (cache/key.py)
    assert environment_change({}, {"env2 dist:six": "1.0"}) == "six was installed (1.0)"
    assert environment_change({"env1 files:six": "ab"}, {"env1 files:six": "cd"}) == (
        "the installed files of six changed"
    )
    assert environment_change({"env1 python": "3.11.7"}, {"env1 python": "3.11.8"}) == (
        "the interpreter changed: 3.11.7 -> 3.11.8"
    )
