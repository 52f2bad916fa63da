"""One atomic write with one mode policy, and log tails read from the end."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from orchestrator.cache.key import KeyParts
from orchestrator.cache.store import CacheStore, Entry
from orchestrator.model.files import (
    EXECUTABLE,
    KEEP,
    SHARED,
    clean_line,
    failure_lines,
    make_own_directory,
    read_tail,
    staged,
    tail_lines,
    write_atomic,
)
from orchestrator.model.records import RunRecord, write_record


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_run_record_is_shared_like_the_reports(tmp_path: Path) -> None:
    record = tmp_path / "run" / "run.json"
    run = RunRecord(
        run_id="r",
        started_at="2026-11-30T00:00:00+00:00",
        lane="heavy",
        strategy="thread",
        workers=1,
    )
    write_record(run, record)
    write_atomic(tmp_path / "run" / "report.md", "# report\n")
    assert mode(record) == SHARED == 0o644
    assert mode(tmp_path / "run" / "report.md") == SHARED
    assert sorted(p.name for p in record.parent.iterdir()) == ["report.md", "run.json"]


def test_keep_keeps_an_existing_mode_and_executable_is_0755(tmp_path: Path) -> None:
    config = tmp_path / "workflow.toml"
    config.write_text("old\n")
    config.chmod(0o600)
    write_atomic(config, "new\n", KEEP)
    assert (config.read_text(), mode(config)) == ("new\n", 0o600)
    write_atomic(tmp_path / "fresh.toml", "x\n", KEEP)
    assert mode(tmp_path / "fresh.toml") == SHARED
    write_atomic(tmp_path / "hook", "#!/bin/sh\n", EXECUTABLE)
    assert mode(tmp_path / "hook") == 0o755


def test_a_failure_between_staging_and_swapping_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "hook"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), staged(target, "new\n", EXECUTABLE) as temporary:
        assert temporary.read_text() == "new\n"
        raise RuntimeError("the backup could not be made")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["hook"]


def test_tails_are_read_from_the_end(tmp_path: Path) -> None:
    log = tmp_path / "stage.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert tail_lines(log, 2) == ["line 998", "line 999"]
    data, cut = read_tail(log, 20)
    assert cut and data.endswith(b"line 999\n") and len(data) == 20
    assert read_tail(log, 10**6) == (log.read_bytes(), False)
    assert tail_lines(tmp_path / "missing.log", 5) == []


def test_one_duration_formatter_serves_messages_and_the_profile_table() -> None:
    from orchestrator.model.units import aligned, markdown_row, seconds

    assert [seconds(v) for v in (0.04, 12.34, 99.94, 123.4)] == ["0.0s", "12.3s", "99.9s", "123s"]
    assert [seconds(v, digits=2) for v in (0.042, 9.994, 12.34)] == ["0.04s", "9.99s", "12.3s"]
    assert aligned([("a", "bb"), ("ccc", "d")]) == ["a    bb", "ccc  d"]
    assert markdown_row(["a", "b"]) == "| a | b |"


def test_log_tails_are_safe_on_a_terminal(tmp_path: Path) -> None:
    log = tmp_path / "s.log"
    log.write_bytes(
        b"\x1b[31mred\x1b[0m plain\r\n"
        b"progress 10%\rprogress 100%\n"
        b"nul:\x00:end\x07\n"
        b"\x1b]0;title\x07\x1b[2J\x1b[Hcleared\x1b[1;32m ok\x1b[m\tdone\n"
        b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1bc\xc2\x9b2J\n"
    )
    assert tail_lines(log, 10) == [
        "\x1b[31mred\x1b[0m plain",
        "progress 100%",
        "nul::end",
        "cleared\x1b[1;32m ok\x1b[m\tdone",
        "link 2J",  # a lone C1 CSI is dropped; UTF-8 terminals do not act on it
    ]


def test_one_cleaner_keeps_colours_for_the_console_only() -> None:
    line = "\x1b[31mred\x1b[0m\x1b[2J \x9b2J a\x00b \ufffe\ud800end"
    assert clean_line(line, colours=True) == "\x1b[31mred\x1b[0m 2J ab end"
    # Reports are XML too: no escape at all, nor a character XML 1.0 forbids.
    assert clean_line(line, colours=False) == "red 2J ab end"


def test_a_tail_cut_inside_a_line_leaves_that_line_out(tmp_path: Path) -> None:
    # The cut may fall inside a secret, whose second half the masker cannot recognise.
    log = tmp_path / "stage.log"
    log.write_bytes(b"x" * 100 + b"TOKENVALUE\nlast\n")
    assert tail_lines(log, 5, max_bytes=12) == ["last"]


def test_bytes_are_written_as_they_are_with_the_same_mode_policy(tmp_path: Path) -> None:
    target = tmp_path / "v1" / "ab" / "entry"
    payload = b'{"key": 1}\n\xff\xfe not text\r\n'
    write_atomic(target, payload)
    assert target.read_bytes() == payload
    assert mode(target) == SHARED
    assert [p.name for p in target.parent.iterdir()] == ["entry"]  # nothing staged is left


def test_a_cache_entry_is_written_by_the_one_atomic_write(tmp_path: Path) -> None:
    parts = KeyParts(stage={"run": "x"}, inputs={}, env={}, tool={})
    store = CacheStore(tmp_path / "cache", 1 << 20)
    store.put(Entry(parts.digest(), "lint", "run-1", 1.0, 0.0, parts), b"log\r\n\xff")
    hit = store.get(parts.digest())
    assert hit is not None and hit.log == b"log\r\n\xff"
    assert mode(store.path_for(parts.digest())) == SHARED


def test_a_count_names_its_noun_in_the_singular_only_for_one() -> None:
    from orchestrator.model.units import count

    assert [count(n, "stage") for n in (0, 1, 2)] == ["0 stages", "1 stage", "2 stages"]


PYTEST_TAIL = [
    "tests/test_a.py:3: AssertionError",
    "=========================== short test summary info ============================",
    "FAILED tests/test_a.py::test_one - assert 1 == 2",
    "ERROR tests/test_b.py::test_two - RuntimeError: boom",
    "1 failed, 3 passed, 1 error in 0.42s",
    "---------------------------- benchmark: 3 tests ----------------------------",
    "Name (time in us)        Min       Max",
]


def test_a_failed_pytest_tail_is_its_short_summary_not_what_printed_last() -> None:
    lines, named = failure_lines(["noise"] * 80 + PYTEST_TAIL, 30)
    assert named == "pytest's short test summary"
    assert lines == PYTEST_TAIL[1:5]


def test_a_long_summary_keeps_its_first_failures_and_its_result_line() -> None:
    failed = [f"FAILED tests/test_a.py::test_{i}" for i in range(100)]
    summary = ["==== short test summary info ====", *failed, "100 failed in 3.1s"]
    lines, _ = failure_lines(summary, 10)
    assert lines[:2] == summary[:2] and lines[-1] == "100 failed in 3.1s"
    assert lines[-2] == "... 93 more lines" and len(lines) == 10


def test_without_a_summary_the_last_lines_are_shown() -> None:
    assert failure_lines(["a", "b", "c"], 2) == (["b", "c"], "last 2 lines")
    assert failure_lines([], 2) == ([], "last 0 lines")


def test_workflow_directories_ignore_themselves(tmp_path: Path) -> None:
    make_own_directory(tmp_path / ".workflow" / "reports")
    assert (tmp_path / ".workflow" / ".gitignore").read_text().splitlines()[-1] == "*"
    # A directory the user named holds only run directories: nothing is added there.
    make_own_directory(tmp_path / "ci" / "runs")
    assert not (tmp_path / "ci" / ".gitignore").exists()
    assert list((tmp_path / "ci" / "runs").iterdir()) == []
    # A .workflow made by an older version gets one on the next run.
    (tmp_path / "old" / ".workflow" / "reports").mkdir(parents=True)
    make_own_directory(tmp_path / "old" / ".workflow" / "reports")
    assert (tmp_path / "old" / ".workflow" / ".gitignore").is_file()
