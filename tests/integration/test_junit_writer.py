"""workflow's JUnit writer (`-p workflow_junit`) says what pytest's own xunit1 writer says.

One real suite with every kind of outcome (pass, failure, setup and teardown errors,
skips, xfail, strict and lax xpass, parametrized tests in classes, a module that cannot
be collected, output with characters XML cannot hold) runs under pytest twice: once with
`--junit-xml` (xunit1), once with workflow's plugin (reading the terminal reporter's
reports, or, when a plugin's reporter took its place, collecting them itself). Both
files are read by `engine/junit.read_junit`; every test must come out with the same id,
outcome, file, line and message, in the same order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.engine.junit import pytest_junit_args, read_junit
from orchestrator.engine.plugins import PLUGIN_DIR
from orchestrator.model.testresults import TestCase

pytestmark = pytest.mark.integration

SUITE = """
import pytest


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup is broken")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown is broken")


def test_passes():
    pass


def test_fails():
    assert 1 + 1 == 3, "arithmetic \\x07 with a bell"


def test_setup_error(broken_setup):
    pass


def test_teardown_error(broken_teardown):
    pass


def test_fails_then_teardown_error(broken_teardown):
    assert False


def test_skipped():
    pytest.skip("not here")


@pytest.mark.skip(reason="marked")
def test_marked_skip():
    pass


@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed", strict=True)
def test_strict_xpass():
    pass


@pytest.mark.xfail(reason="maybe")
def test_lax_xpass():
    pass


from bases import BaseChecks


class TestInherits(BaseChecks):
    pass


class TestGroup:
    @pytest.mark.parametrize("value", [1, 2, "a::b"])
    def test_values(self, value):
        assert value != 2
"""


# A plugin that puts its own terminal reporter in the place of pytest's, as pytest-sugar
# does: workflow's writer cannot read the reports from it, so it collects them itself.
OWN_REPORTER = """
import pytest
from _pytest.terminal import TerminalReporter


class OwnReporter(TerminalReporter):
    def _add_stats(self, category, items):
        pass  # keeps no reports


@pytest.hookimpl(trylast=True)  # once pytest's reporter is there to replace
def pytest_configure(config):
    standard = config.pluginmanager.get_plugin("terminalreporter")
    config.pluginmanager.unregister(standard)
    config.pluginmanager.register(OwnReporter(config), "terminalreporter")
"""


def run_pytest(root: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), str(root)])}
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", *args]
    argv.append("--continue-on-collection-errors")
    subprocess.run(argv, cwd=root, env=env, capture_output=True, check=False)


@pytest.mark.parametrize(
    "reporter",
    [(), ("-p", "own_reporter")],
    ids=["from-the-terminal-reporters-stats", "from-its-own-hooks"],
)
def test_the_writer_reports_what_pytests_writer_reports(
    tmp_path: Path, reporter: tuple[str, ...]
) -> None:
    (tmp_path / "tests" / "sub").mkdir(parents=True)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests" / "sub" / "test_kinds.py").write_text(SUITE)
    (tmp_path / "tests" / "test_unimportable.py").write_text("import no_such_module_here\n")
    # An inherited test: pytest's `file` names bases.py, its node id test_kinds.py.
    (tmp_path / "tests" / "sub" / "bases.py").write_text(
        "class BaseChecks:\n    def test_base(self):\n        pass\n"
    )
    (tmp_path / "own_reporter.py").write_text(OWN_REPORTER)
    theirs, ours = tmp_path / "pytest.xml", tmp_path / "workflow.xml"
    run_pytest(tmp_path, f"--junit-xml={theirs}", "-o", "junit_family=xunit1")
    run_pytest(tmp_path, *pytest_junit_args(ours), *reporter)
    expected = read_junit(theirs, pytest=True)
    found = read_junit(ours, pytest=True)
    assert expected is not None
    assert found is not None
    # 14 tests, a teardown error listed again, a collection error
    assert len(expected) == 16

    def shape(cases: list[TestCase]) -> list[tuple[object, ...]]:
        # pytest lists a test with a failure and a teardown error twice; the first says it.
        first: dict[str, TestCase] = {}
        for case in cases:
            first.setdefault(case.id, case)
        # Object addresses differ from one run to the next.
        return sorted(
            (c.id, c.outcome, c.file, c.line, re.sub(r"0x[0-9a-f]+", "0x", c.message or ""))
            for c in first.values()
        )

    for mine, theirs_case in zip(shape(found), shape(expected), strict=True):
        assert mine == theirs_case
    # The same order: collection errors first, then the tests as they ran.
    assert list(dict.fromkeys(c.id for c in found)) == list(dict.fromkeys(c.id for c in expected))
    outcomes = {case.id: case.outcome.value for case in found}
    assert outcomes["tests/sub/test_kinds.py::test_setup_error"] == "error"
    assert outcomes["tests/sub/test_kinds.py::TestGroup::test_values[2]"] == "failed"
    assert outcomes["tests/test_unimportable.py::tests.test_unimportable"] == "error"
    assert outcomes["tests/sub/test_kinds.py::TestInherits::test_base"] == "passed"


def test_pytests_default_shape_reads_back_with_the_same_ids(tmp_path: Path) -> None:
    # A stage that names its own `--junit-xml` gets pytest's default shape (xunit2): no
    # `file` attribute. Its ids must still be node ids, or reruns would name no test.
    (tmp_path / "tests" / "sub").mkdir(parents=True)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests" / "sub" / "test_kinds.py").write_text(SUITE)
    (tmp_path / "tests" / "sub" / "bases.py").write_text(
        "class BaseChecks:\n    def test_base(self):\n        pass\n"
    )
    xunit2, ours = tmp_path / "xunit2.xml", tmp_path / "workflow.xml"
    run_pytest(tmp_path, f"--junit-xml={xunit2}", "-o", "junit_family=xunit2")
    run_pytest(tmp_path, *pytest_junit_args(ours))
    expected = read_junit(ours, pytest=True)
    found = read_junit(xunit2, pytest=True)
    assert expected is not None
    assert found is not None
    assert {case.id for case in found} == {case.id for case in expected}
    assert "tests/sub/test_kinds.py::TestInherits::test_base" in {case.id for case in found}
