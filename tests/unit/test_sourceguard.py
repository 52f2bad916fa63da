"""What a stage changed between two readings of `git status` (pure rules)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.pipeline.sourceguard import Edit, edits, not_a_source

CODES = st.sampled_from(["??", " M", "M ", " D", "D ", "MM", "A "])
READINGS = st.dictionaries(st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3})?", fullmatch=True), CODES)


def _present(reading: dict[str, str]) -> set[str]:
    return {path for path, code in reading.items() if "D" not in code}


@given(READINGS)
def test_nothing_written_is_no_edit(reading: dict[str, str]) -> None:
    there = _present(reading)
    assert edits(reading, dict(reading), there.__contains__, lambda _path: False) == []


@given(READINGS, st.data())
def test_every_written_file_is_named_once(reading: dict[str, str], data: st.DataObject) -> None:
    there = _present(reading)
    written = data.draw(st.sets(st.sampled_from(sorted(there)))) if there else set()
    found = edits(reading, dict(reading), there.__contains__, written.__contains__)
    assert found == [Edit(path, "modified") for path in sorted(written)]


def test_new_gone_and_restored_files() -> None:
    before = {"dirty.py": " M", "old.txt": "??", "lost.py": " D", "clean.py": " M"}
    now = {"dirty.py": " M", "new.txt": "??", "lost.py": " D", "edited.py": " M", "rm.py": " D"}
    there = {"dirty.py", "new.txt", "edited.py", "lost.py", "clean.py"}
    assert edits(before, now, there.__contains__, lambda _path: False) == [
        Edit("clean.py", "modified"),  # back to what git has
        Edit("edited.py", "modified"),
        Edit("lost.py", "added"),  # deleted before the stage, there again after it
        Edit("new.txt", "added"),
        Edit("old.txt", "deleted"),  # an untracked file removed
        Edit("rm.py", "deleted"),
    ]


def test_caches_bytecode_and_environments_are_not_sources() -> None:
    for path in (
        "pkg/__pycache__/m.cpython-311.pyc",
        "m.pyc",
        ".pytest_cache/v/x",
        ".hypothesis/examples/a",
        ".coverage",
        ".coverage.host.1.2",
        "src/pkg.egg-info/PKG-INFO",
        ".tox/py/bin/python",
    ):
        assert not_a_source(path), path
    assert not_a_source(".venv/lib/site.py", [".venv"])
    for path in ("pkg/core.py", "coverage.py", "tests/test_pyc.py", ".github/ci.yml"):
        assert not not_a_source(path, [".venv"]), path
