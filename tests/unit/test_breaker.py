"""The circuit breaker (engine/proc/breaker.py): what is the runner's fault, when it trips."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.engine.proc.breaker import (
    Breaker,
    exec_format_cause,
    refusal,
    should_trip,
    spawn_cause,
)
from orchestrator.model.errors import ExitCode, worst_exit_code

# The first bytes of an ELF executable for a machine no runner here has (e_machine 0xBEEF):
# the kernel answers exec with ENOEXEC, and no binfmt handler claims it.
FOREIGN_ELF = b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x02\x00\xef\xbe" + bytes(44)


def _error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def test_the_system_refusing_a_resource_is_the_runners() -> None:
    assert refusal(_error(errno.EMFILE)) == "Too many open files (EMFILE)"
    assert refusal(BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))) == (
        "Resource temporarily unavailable (EAGAIN)"
    )
    # Python's words for a thread refused by the same process limit count as EAGAIN.
    assert refusal(RuntimeError("can't start new thread")) == refusal(_error(errno.EAGAIN))
    assert refusal(_error(errno.ENOMEM)) == "Cannot allocate memory (ENOMEM)"
    for own in (errno.ENOENT, errno.EACCES, errno.E2BIG, errno.ENOSPC):
        assert refusal(_error(own)) is None
    assert refusal(RuntimeError("something else")) is None
    # An installed module of workflow's that cannot be loaded: its directory could not be
    # listed (Python reports EMFILE there as a missing module), or its files are gone.
    assert refusal(ModuleNotFoundError("No module named 'jinja2'", name="jinja2")) == (
        "workflow could not load its own module jinja2 (out of file descriptors?)"
    )
    assert refusal(ModuleNotFoundError("No module named 'x'", name="a_project_module")) is None


def test_exec_format_error_is_the_stages_own_inside_its_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    elsewhere = tmp_path / "runner-tools"
    project.mkdir()
    elsewhere.mkdir()
    own_script = project / "check.sh"
    own_script.write_text("echo no interpreter line\n")
    foreign = elsewhere / "tool"
    foreign.write_bytes(FOREIGN_ELF)
    through = project / "wrapper"
    through.write_text(f"#!{foreign}\n")  # the project's script, the runner's interpreter
    assert exec_format_cause(own_script, [project]) is None
    assert exec_format_cause(foreign, [project]) == (
        f"Exec format error (ENOEXEC): this runner cannot run {foreign}"
    )
    assert exec_format_cause(through, [project]) is not None
    assert spawn_cause(_error(errno.ENOEXEC), own_script, [project]) is None
    assert spawn_cause(_error(errno.ENOENT), foreign, [project]) is None


CAUSES = st.sampled_from(["Too many open files (EMFILE)", "Cannot allocate memory (ENOMEM)"])
EVENTS = st.lists(st.tuples(st.sampled_from("abcdef"), CAUSES), max_size=12)


@given(EVENTS)
def test_it_trips_once_three_distinct_stages_share_a_reason(events: list[tuple[str, str]]) -> None:
    heard: list[str] = []
    breaker = Breaker(on_trip=heard.append)
    for stage, cause in events:
        breaker.cannot_start(stage, cause)
    by_cause: dict[str, set[str]] = {}
    tripped_at = None
    for index, (stage, cause) in enumerate(events):
        by_cause.setdefault(cause, set()).add(stage)
        if tripped_at is None and should_trip(by_cause):
            tripped_at = index
    assert (breaker.cause is not None) is (tripped_at is not None)
    assert len(heard) == (1 if tripped_at is not None else 0)
    if breaker.cause is not None:
        assert breaker.cause.startswith("3 stages could not start: ")


def test_a_full_disk_trips_at_once_and_the_first_cause_stays() -> None:
    heard: list[str] = []
    breaker = Breaker(on_trip=heard.append)
    breaker.disk_full("/reports/run/logs/a.log", _error(errno.ENOSPC))
    breaker.trip("later")
    assert heard == ["No space left on device writing /reports/run/logs/a.log"]
    assert breaker.cause == heard[0]


def test_the_worst_exit_code_ranks_a_broken_runner_over_failures_below_interrupts() -> None:
    assert worst_exit_code([0, 1, 5, 3]) == ExitCode.RUNNER_BROKEN
    assert worst_exit_code([5, 130]) == ExitCode.SIGINT
    assert worst_exit_code([5, 129]) == ExitCode.SIGHUP
    assert worst_exit_code([1, 2]) == ExitCode.USAGE
    assert worst_exit_code([]) == 0
