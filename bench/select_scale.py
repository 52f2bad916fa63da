"""Selection at scale, on synthetic maps: the decision's time, the map's size.

A suite of N tests in N/50 test files over a package of 300 modules with 5,000
function bodies: each test ran its own body and 30 of the package's, and imports the
class and module bodies of the 100 modules its file imports (every test of a file
shares that set, as a real suite's tests mostly do). The decision is timed on an
in-memory map (as a run holds it once read) with three function bodies changed; the
map is stored in a fresh history database and its file measured.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from orchestrator.history.depmap import LearnedTest, MapUpdate, load_map, save_map
from orchestrator.model.selection import DepMap, PieceVersion, TestEntry, decide
from orchestrator.model.selectrules import Baseline

MODULES = 300
FUNCTIONS = 5_000
RAN = 30  # function bodies of the package a test runs
IMPORTED = 100  # modules a test file imports
PER_FILE = 50  # tests per test file


def _package() -> tuple[list[PieceVersion], list[list[PieceVersion]]]:
    functions = [PieceVersion(f"pkg/m{i % MODULES}.py", f"f{i}", "fp") for i in range(FUNCTIONS)]
    bodies = [
        [PieceVersion(f"pkg/m{m}.py", "<module>", "fp"), PieceVersion(f"pkg/m{m}.py", "C", "fp")]
        for m in range(MODULES)
    ]
    return functions, bodies


def synthetic_tests(count: int, seed: int = 1) -> dict[str, LearnedTest]:
    """`count` learned tests as the module docstring describes them."""
    rng = random.Random(seed)  # nosec B311
    functions, bodies = _package()
    tests: dict[str, LearnedTest] = {}
    for file_index in range(max(1, count // PER_FILE)):
        test_file = f"tests/test_{file_index}.py"
        modules = rng.sample(range(MODULES), IMPORTED)
        imports = frozenset(p for m in modules for p in bodies[m]) | {
            PieceVersion(test_file, "<module>", "fp")
        }
        for number in range(PER_FILE):
            name = f"{test_file}::test_{number}"
            own = PieceVersion(test_file, f"test_{number}", "fp")
            code = frozenset([own, *rng.sample(functions, RAN)])
            tests[name] = LearnedTest("passed", code, imports)
    return tests


def in_memory(tests: dict[str, LearnedTest]) -> DepMap:
    """The map as `history/depmap.load_map` returns it, without the database."""
    ids: dict[PieceVersion, int] = {}
    sets: dict[frozenset[PieceVersion], int] = {}
    entries = {}
    for name, learned in tests.items():
        numbers = []
        for group in (learned.code, learned.imports):
            if group not in sets:
                sets[group] = len(sets)
            numbers.append(sets[group])
            for version in group:
                ids.setdefault(version, len(ids))
        entries[name] = TestEntry("passed", "r1", tuple(numbers))
    versions = {vid: version for version, vid in ids.items()}
    members = {sid: frozenset(ids[v] for v in group) for group, sid in sets.items()}
    return DepMap(versions, members, entries)


def decision_seconds(count: int, repeats: int = 21) -> tuple[float, int]:
    """Median seconds of `decide` over a map of `count` tests with three function
    bodies changed; and how many tests it ran."""
    depmap = in_memory(synthetic_tests(count))
    changed = {("pkg/m1.py", "f1"), ("pkg/m2.py", "f2"), ("pkg/m3.py", "f3")}

    def current(path: str, name: str) -> str:
        return "new" if (path, name) in changed else "fp"

    samples = []
    decision = None
    for _ in range(repeats):
        started = time.perf_counter()
        decision = decide(depmap, current)
        samples.append(time.perf_counter() - started)
    if decision is None:
        raise SystemExit("bench: no decision was made")
    return statistics.median(samples), len(decision.why)


def stored_map(count: int) -> tuple[int, float, float]:
    """(bytes of the history file, seconds to save, seconds to read back) of a map of
    `count` tests."""
    tests = synthetic_tests(count)
    baseline = Baseline(inputs={}, environment={}, config="c", pytest_config="p")
    update = MapUpdate("r1", tests, {t: "passed" for t in tests}, frozenset(tests), baseline, None)
    with tempfile.TemporaryDirectory() as scratch:
        db = Path(scratch) / "history.db"
        started = time.perf_counter()
        save_map(db, "unit", update)
        saved = time.perf_counter() - started
        started = time.perf_counter()
        found = load_map(db, "unit")
        read = time.perf_counter() - started
        if found is None or len(found.depmap.tests) != count:
            raise SystemExit("bench: the stored map did not read back whole")
        size = sum(p.stat().st_size for p in Path(scratch).iterdir())
    return size, saved, read
