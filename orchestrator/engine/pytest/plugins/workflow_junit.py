"""pytest plugin: the stage's JUnit file (xunit1 shape), written once at the session's end.

workflow gives every pytest stage a JUnit file (DESIGN.md, "Per-test results"). pytest's
own writer (`--junit-xml`) builds an element tree per test and costs about 60 us a test:
7% of the wall time of a stage of 2,000 trivial tests, past the 2% that per-test results
may cost. This plugin does no work while the tests run: at the end of the session it
reads the reports pytest's terminal reporter has kept for its summary and writes the same
JUnit shape from them: each `testcase` with pytest's `classname`, `name`, `file`, `line`
(from 0, as pytest writes it) and `time` (setup, call and teardown), and `failure`,
`error` or `skipped` with pytest's messages, in the order the tests ran (about 7 us a test
in all; bench/bench_junit.py). Where a plugin's reporter replaced pytest's (pytest-sugar)
or there is none, it collects each report itself. A stage that names its own
`--junit-xml` keeps pytest's writer; this plugin is loaded only by workflow
(`-p workflow_junit --workflow-junit=PATH`, this directory on PYTHONPATH).

Each test case also carries its `nodeid`, pytest's own id: workflow reads it rather than
guess one from the classname (a directory `tests/API`, a parameter holding `::` or `.`
cannot be told from a class). What the session was given and did not run is
`workflow_session`'s file.

It runs inside the stage's own Python environment (3.8 or later): standard library and
pytest only.
Under pytest-xdist only the controlling process writes, as pytest's writer does.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from _pytest.reports import BaseReport
from _pytest.terminal import TerminalReporter

_SPECIAL = re.compile('[&<>"]')  # what an attribute value cannot hold as it is
# Characters XML 1.0 cannot hold; pytest's writer shows them as #xNN, and so does this.
# Compiled on first use (about 4 ms): most suites never print one.
_ILLEGAL = "[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--workflow-junit=PATH`: where to write the JUnit file."""
    parser.getgroup("workflow").addoption(
        "--workflow-junit", dest="workflow_junit", default=None, metavar="PATH"
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    """Write a file only when asked, and not in an xdist worker (its controller writes).

    pytest's own terminal reporter keeps every report of the session in its `stats`
    (the reports its summary is made of), so when it is the reporter, the writer reads
    them there at the end and adds no work to each test. Where another plugin's reporter
    took its place (pytest-sugar's, say; every plugin has been configured by now) or
    there is none (`-p no:terminal`), the writer collects each report itself."""
    config = session.config
    path = config.getoption("workflow_junit")
    if not path or hasattr(config, "workerinput"):
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if type(reporter) is TerminalReporter:
        writer = JunitWriter(path, reporter.stats)
    else:
        writer = _HookedWriter(path)
    config.pluginmanager.register(writer, "workflow-junit-writer")


def _clean(text: str) -> str:
    if text.isprintable():  # the common case: nothing XML cannot hold
        return text
    return re.sub(_ILLEGAL, lambda m: f"#x{ord(m.group()):02X}", text)


def escape(text: str) -> str:
    """Text for an element's content. (Not xml.sax.saxutils: importing it loads
    urllib.request and http.client, tens of milliseconds on every pytest stage.)"""
    return _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """Text as a double-quoted attribute value; line ends and tabs kept as references."""
    if text.isprintable() and _SPECIAL.search(text) is None:
        return f'"{text}"'  # most names and paths: nothing to replace
    value = escape(text).replace('"', "&quot;")
    return '"' + value.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;") + '"'


def _without(text: str, prefix: str) -> str:
    # str.removeprefix needs Python 3.9; a stage's own Python may be older.
    return text[len(prefix) :] if text.startswith(prefix) else text


def mangled(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's xunit1 writer makes them from a node id:
    `tests/test_a.py::TestX::test_b[1]` -> ("tests.test_a.TestX", "test_b[1]")."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    module = _MODULES.get(names[0])
    if module is None:
        module = _MODULES[names[0]] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[0] = module
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


_PHASES = {"collect": 0, "setup": 1, "call": 2, "teardown": 3}
_MODULES: dict[str, str] = {}  # a test file's path -> its dotted name, worked out once


def _gathered(stats: dict[str, list[Any]]) -> tuple[dict[str, list[Any]], list[Any]]:
    """({node id: [seconds, its first report]}, the reports that did not pass)."""
    found: dict[str, list[Any]] = {}
    failed = []
    for group in stats.values():
        for report in group:
            if not isinstance(report, BaseReport):
                continue  # warnings, and whatever else a plugin keeps there
            entry = found.get(report.nodeid)
            if entry is None:
                entry = found[report.nodeid] = [0.0, report]
            if report.when != "collect":
                entry[0] += report.duration
            if report.outcome != "passed":
                failed.append(report)
    return found, failed


class _Case:
    """One test as the file will list it."""

    __slots__ = ("file", "kind", "line", "message", "nodeid", "text", "time")

    def __init__(self, nodeid: str, file: str, line: int | None) -> None:
        self.nodeid = nodeid
        self.file = file
        self.line = line
        self.time = 0.0
        self.kind: str | None = None  # "failure", "error", "skipped" or None (passed)
        self.message = ""
        self.text = ""


class JunitWriter:
    """Writes the file at the end of the session, from `stats`: the terminal reporter's
    (every report of the session, grouped by outcome), or the writer's own."""

    def __init__(self, path: str, stats: dict[str, list[Any]] | None = None) -> None:
        self.path = Path(path)
        self.stats: dict[str, list[Any]] = {"": []} if stats is None else stats
        self.cases: dict[str, _Case] = {}
        self.started = time.time()

    def _case(self, report: Any) -> _Case:
        case = self.cases.get(report.nodeid)
        if case is None:
            location = getattr(report, "location", None) or (report.nodeid, None, "")
            case = self.cases[report.nodeid] = _Case(report.nodeid, location[0], location[1])
        return case

    def _set(self, case: _Case, kind: str, message: str, text: str) -> None:
        if case.kind is None or (case.kind == "skipped" and kind != "skipped"):
            case.kind, case.message, case.text = kind, message, text

    def note(self, case: _Case, report: Any) -> None:
        """What a report that did not pass makes of its test (the first one counts,
        except that a failure or an error replaces a skip)."""
        if report.when == "collect":  # a file that could not be collected
            if report.failed:
                self._set(case, "error", "collection failure", str(report.longrepr))
            else:
                self._set(case, "skipped", "collection skipped", str(report.longrepr))
        elif report.failed:
            if report.when == "call" and hasattr(report, "wasxfail"):
                self._set(case, "skipped", "xfail-marked test passes unexpectedly", "")
            elif report.when == "call":
                crash = getattr(report.longrepr, "reprcrash", None)
                message = crash.message if crash is not None else str(report.longrepr)
                self._set(case, "failure", message, str(report.longrepr))
            else:
                crash = getattr(report.longrepr, "reprcrash", None)
                reason = crash.message if crash is not None else str(report.longrepr)
                message = f'failed on {report.when} with "{reason}"'
                self._set(case, "error", message, str(report.longrepr))
        elif not report.skipped:
            return  # another plugin's outcome (a "rerun"): its time is all it adds
        elif hasattr(report, "wasxfail"):
            self._set(case, "skipped", _without(str(report.wasxfail), "reason: "), "")
        elif isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            file, line, reason = report.longrepr
            reason = _without(str(reason), "Skipped: ")
            self._set(case, "skipped", reason, f"{file}:{line}: {reason}")
        else:
            self._set(case, "skipped", str(report.longrepr), "")

    def read_stats(self, stats: dict[str, list[Any]], items: list[Any]) -> None:
        """The cases of every report in `stats`, where pytest groups them by outcome, in
        the order of the file: collection errors, then the tests as they ran (`items`),
        then any other (an xdist controller has no items)."""
        found, failed = _gathered(stats)
        order = [nodeid for nodeid, (_, first) in found.items() if first.when == "collect"]
        order += [item.nodeid for item in items]
        for nodeid in [*order, *found]:
            entry = found.pop(nodeid, None)
            if entry is not None:
                self._case(entry[1]).time = entry[0]
        if failed:  # noted in the order they were made: each test's in order of phase
            position = {nodeid: index for index, nodeid in enumerate(self.cases)}
            failed.sort(key=lambda r: (position[r.nodeid], _PHASES.get(r.when or "", 4)))
            for report in failed:
                self.note(self.cases[report.nodeid], report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the file (atomically: a reader never sees half of it)."""
        self.read_stats(self.stats, list(getattr(session, "items", None) or ()))
        counts = {"failure": 0, "error": 0, "skipped": 0}
        body: list[str] = []
        opening: dict[tuple[str, str], str] = {}  # tests share a few (classname, file) pairs
        for case in self.cases.values():
            classname, name = mangled(case.nodeid)
            start = opening.get((classname, case.file))
            if start is None:
                start = f"<testcase classname={quoteattr(classname)} file={quoteattr(case.file)}"
                opening[classname, case.file] = start
            line = "" if case.line is None else f' line="{case.line}"'
            head = (
                f"{start} name={quoteattr(name)} nodeid={quoteattr(case.nodeid)}{line} "
                f'time="{case.time:.3f}"'
            )
            if case.kind is None:
                body.append(head + " />")
                continue
            counts[case.kind] += 1
            message = quoteattr(case.message)
            text = escape(case.text)
            body.append(f"{head}><{case.kind} message={message}>{text}</{case.kind}></testcase>")
        took = time.time() - self.started
        suite = (
            f'<testsuite name="pytest" errors="{counts["error"]}" '
            f'failures="{counts["failure"]}" skipped="{counts["skipped"]}" '
            f'tests="{len(self.cases)}" time="{took:.3f}">'
        )
        document = "".join(
            [
                '<?xml version="1.0" encoding="utf-8"?><testsuites>',
                suite,
                *body,
                "</testsuite></testsuites>\n",
            ]
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(document, encoding="utf-8")
        partial.replace(self.path)


class _HookedWriter(JunitWriter):
    """The writer where pytest's terminal reporter is not there to keep the reports: it
    keeps them itself, for the same reading at the end."""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.stats[""].append(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.passed:
            self.stats[""].append(report)
