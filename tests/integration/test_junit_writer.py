"""workflow's JUnit writer (`-p workflow_junit`) says what pytest's own xunit1 writer says.

One real suite with every kind of outcome (pass, failure, setup and teardown errors,
skips, xfail, strict and lax xpass, parametrized tests in classes, a module that cannot
be collected, output with characters XML cannot hold) runs under pytest twice: once with
`--junit-xml` (xunit1), once with workflow's plugin (reading the terminal reporter's
reports, or, when a plugin's reporter took its place, collecting them itself). Every
test case must carry the same attributes (classname, name, file, line), outcome and
message, in the same order; workflow's also carries pytest's node id, which
`engine/pytest/junit.read_junit` names the test by.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from orchestrator.engine.pytest.junit import pytest_junit_args, read_junit
from orchestrator.engine.pytest.plugins import PLUGIN_DIR

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
    expected, found = cases_of(theirs), cases_of(ours)
    # 14 tests and a collection error
    assert len(expected) == 15
    # pytest lists a test with a failure and a teardown error twice; the first says it.
    assert sorted(dict(expected)) == sorted(dict(found))
    assert list(dict(found).items()) == list(dict(expected).items())
    outcomes = {case.id: case.outcome.value for case in read_junit(ours) or []}
    assert outcomes["tests/sub/test_kinds.py::test_setup_error"] == "error"
    assert outcomes["tests/sub/test_kinds.py::TestGroup::test_values[2]"] == "failed"
    assert outcomes["tests/test_unimportable.py"] == "error"  # the collector's own id
    # An inherited test: its `file` is bases.py, its node id the module that collected it.
    assert outcomes["tests/sub/test_kinds.py::TestInherits::test_base"] == "passed"


def cases_of(path: Path) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each test case's attributes but `nodeid` and `time`, then its outcome and message
    (object addresses differ from one run to the next), in file order, first of each."""
    found: dict[tuple[str, ...], tuple[str, ...]] = {}
    for case in etree.parse(str(path)).iter("testcase"):
        key = tuple(
            f"{k}={v}" for k, v in sorted(case.attrib.items()) if k not in ("nodeid", "time")
        )
        children = tuple(
            f"{child.tag!s}:{child.get('message')}:{re.sub(r'0x[0-9a-f]+', '0x', child.text or '')}"
            for child in case
        )
        found.setdefault(key, children)
    return list(found.items())
