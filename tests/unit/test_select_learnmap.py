"""What a test depends on, from what its coverage contexts ran and read (pure but for
the files it fingerprints, written here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.cache.snapshot import Snapshot
from orchestrator.pipeline.learnmap import Learned, learned_tests
from orchestrator.pipeline.sourceprints import SourcePrints

FILES = {
    "src/pkg/__init__.py": "from pkg.core import run\n",
    "src/pkg/core.py": "from pkg import util\n\n\ndef run():\n    return util.helper()\n",
    "src/pkg/util.py": (
        "LIMIT = 3\n\n\ndef helper():\n    return LIMIT\n\n\n"
        "def load():\n    return open('d.json').read()\n"
    ),
    "src/pkg/other.py": "def unused():\n    return 1\n",
    "tests/test_a.py": "from pkg import run\n\n\ndef test_run():\n    assert run() == 3\n",
    "d.json": "{}\n",
}
MODULES = {
    "pkg": "src/pkg/__init__.py",
    "pkg.core": "src/pkg/core.py",
    "pkg.util": "src/pkg/util.py",
    "pkg.other": "src/pkg/other.py",
    "test_a": "tests/test_a.py",
}


def prints(tmp_path: Path) -> SourcePrints:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return SourcePrints(Snapshot(tmp_path, {}, frozenset(), frozenset(FILES)))


def section(**contexts: Any) -> dict[str, Any]:
    files = sorted(FILES)
    pieces = [
        [files.index("src/pkg/core.py"), "run"],
        [files.index("src/pkg/util.py"), "helper"],
        [files.index("src/pkg/util.py"), "load"],
        [files.index("tests/test_a.py"), "test_run"],
    ]
    return {
        "rootdir": ".",
        "files": files,
        "pieces": pieces,
        "contexts": contexts,
        "fixtures": {"tests/test_a.py::test_run": ["fixture:tests::wide"]},
        "read_by": {"d.json": [["src/pkg/util.py", "load"]]},
        "modules": MODULES,
    }


def names(versions: Any) -> set[tuple[str, str]]:
    return {(v.path, v.name) for v in versions}


def test_a_test_depends_on_what_it_ran_and_on_everything_its_imports_ran(tmp_path: Path) -> None:
    files = sorted(FILES)
    ran = {"p": [0, 1, 3], "t": [files.index("src/pkg/core.py")], "x": None}
    learned = Learned.joined([section(**{"tests/test_a.py::test_run": ran, "": {"p": []}})])
    [test] = learned_tests(
        learned, {"tests/test_a.py::test_run": "passed"}, prints(tmp_path)
    ).values()
    assert names(test.code) == {
        ("src/pkg/core.py", "run"),
        ("src/pkg/util.py", "helper"),
        ("tests/test_a.py", "test_run"),
    }
    # The test file imports pkg, whose __init__ imports core, which imports util; other.py
    # is imported by no one on that path.
    assert {path for path, _ in names(test.imports)} == {
        "tests/test_a.py",
        "src/pkg/__init__.py",
        "src/pkg/core.py",
        "src/pkg/util.py",
    }
    assert test.opaque is None


def test_a_wide_fixture_and_a_cached_read_count_and_opaque_spreads(tmp_path: Path) -> None:
    test = {"p": [3], "t": [], "x": None}
    wide = {"p": [2], "t": [], "x": "it starts python -I"}  # the fixture ran load()
    learned = Learned.joined(
        [section(**{"tests/test_a.py::test_run": test, "fixture:tests::wide": wide})]
    )
    [found] = learned_tests(
        learned, {"tests/test_a.py::test_run": "passed"}, prints(tmp_path)
    ).values()
    assert ("src/pkg/util.py", "load") in names(found.code)
    assert ("d.json", "<file>") in names(found.code)  # read while load() ran
    assert found.opaque == "it starts python -I"


def test_a_piece_that_cannot_be_fingerprinted_now_is_kept_as_missing(tmp_path: Path) -> None:
    files = sorted(FILES)
    pieces = section()
    pieces["pieces"].append([files.index("src/pkg/core.py"), "gone"])
    pieces["contexts"] = {"tests/test_a.py::test_run": {"p": [4]}}
    learned = Learned.joined([pieces])
    [found] = learned_tests(
        learned, {"tests/test_a.py::test_run": "failed"}, prints(tmp_path)
    ).values()
    assert ("src/pkg/core.py", "gone", "missing") in found.code
    assert found.outcome == "failed"
