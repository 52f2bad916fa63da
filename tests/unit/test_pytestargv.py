"""pytest's command line, read in one place (model/pytestargv.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.model.pytestargv import (
    is_pytest,
    option_value,
    options_start,
    with_plugin_first,
    without_options,
    without_test_paths,
)

WORDS = st.sampled_from(["-q", "tests", "-k", "slow", "-x", "-n", "2", "--lf", "a.py::t"])


def test_the_program_and_where_its_options_start() -> None:
    assert (
        is_pytest(("python3.12", "-m", "pytest"))
        and options_start(("python3", "-m", "pytest")) == 3
    )
    assert is_pytest(("/venv/bin/py.test",)) and options_start(("pytest", "-q")) == 1
    assert not is_pytest(("python", "-m", "mypy")) and not is_pytest(())


def test_an_option_value_in_either_spelling_first_one_wins() -> None:
    argv = ("pytest", "--basetemp=/a", "--junitxml", "j.xml", "--basetemp", "/b")
    assert option_value(argv, ("--basetemp",)) == "/a"
    assert option_value(argv, ("--junit-xml", "--junitxml")) == "j.xml"
    assert option_value(("pytest", "--basetemp"), ("--basetemp",)) is None


@given(st.lists(WORDS, max_size=8), st.lists(WORDS, max_size=8))
def test_taking_options_out_keeps_everything_else_in_order(
    before: list[str], after: list[str]
) -> None:
    argv = ("pytest", *before, "--junit-xml", "x.xml", "-p", "own", "-pown", *after)
    argv += ("-o", "junit_family=xunit2", "--junit-xml=y.xml")
    kept = without_options(argv, ("--junit-xml",), ("own",), ("junit_family=",))
    assert kept == ("pytest", *before, *after)
    assert with_plugin_first(kept, "sel")[:3] == ("pytest", "-p", "sel")


def test_test_paths_go_and_option_values_stay() -> None:
    argv = ("python", "-m", "pytest", "-c", "tests", "tests", "a.py::t", "-q")
    assert without_test_paths(argv, lambda arg: arg in {"tests", "a.py"} or "::" in arg) == [
        "python",
        "-m",
        "pytest",
        "-c",
        "tests",
        "-q",
    ]
