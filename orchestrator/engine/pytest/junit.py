"""JUnit XML files: which one a stage writes (pytest gets one added) and what it says.

Wherever pytest runs, workflow's own writer (`engine/pytest/plugins/workflow_junit.py`) writes
the file workflow reads, even when the command names its own `--junit-xml` (pytest's
writer still writes that one): each test case carries pytest's node id, so ids are never
guessed from a classname. Beside it, `workflow_session` keeps the session's account
(what it was given, what never ran; `model/testsession.py`).

Other tools write JUnit in many shapes: suites nested in suites, no `time`, a skip with
only a message, files of many megabytes, or no file at all because the tool crashed.
`read_junit` reads any of them incrementally with lxml (memory stays flat on huge files)
and returns None for a file that is missing, stale or not XML. A test of such a file is
named as the file names it (`classname::name`) and is never run again by id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.model.masking import Masker
from orchestrator.model.pytestargv import is_pytest, option_value, without_options
from orchestrator.model.testresults import Outcome, TestCase
from orchestrator.model.writes import WriteWarnings

if TYPE_CHECKING:
    from types import ModuleType

    from lxml import etree

JUNIT_OPTIONS = ("--junit-xml", "--junitxml")  # both spellings pytest accepts
JUNIT_FAMILY = "junit_family="  # the ini option (`-o junit_family=...`) that picks the shape
JUNIT_PLUGIN = "workflow_junit"  # workflow's writer (engine/pytest/plugins), `-p workflow_junit`
JUNIT_PLUGIN_OPTION = "--workflow-junit"
SESSION_PLUGIN = "workflow_session"  # the session's account (engine/pytest/plugins)
SESSION_PLUGIN_OPTION = "--workflow-session"
_OWN_PLUGINS = (JUNIT_PLUGIN, SESSION_PLUGIN)
_OWN_OPTIONS = (JUNIT_PLUGIN_OPTION, SESSION_PLUGIN_OPTION)
# pytest ends a failure's text with "path/to/test_x.py:12: AssertionError".
_FAILED_AT = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): ", re.MULTILINE)


class JunitTarget(NamedTuple):
    """The command to run and the JUnit file it leaves (None: the stage writes none)."""

    argv: tuple[str, ...]
    path: Path | None
    pytest: bool  # workflow's writer: node ids, a session account, reruns by id


def session_file(junit: Path) -> Path:
    """Where the session's account of a JUnit file's pytest run is kept."""
    return junit.with_name(junit.name + ".session")


def named_junit(argv: tuple[str, ...]) -> str | None:
    """The JUnit file `argv` already asks pytest for (`--junit-xml[=]PATH`), if any."""
    return option_value(argv, JUNIT_OPTIONS)


def junit_target(
    argv: tuple[str, ...], setting: str | bool | None, cwd: Path, default: Path
) -> JunitTarget:
    """Where the stage's JUnit file will be, adding workflow's writer to a pytest command.

    `setting` is the stage's `junit` key (None: automatic, False: none, a path relative
    to `cwd` for a tool that is not pytest); `default` is the file workflow's writer
    writes (in the run's `tests/` directory). A pytest command always gets that writer,
    whatever `--junit-xml` or `junit_family` it names for itself: its node ids and its
    session's account are what reruns, history and "nothing incomplete passes" rest on.
    """
    if setting is False:
        return JunitTarget(argv, None, pytest=False)
    if is_pytest(argv):
        return JunitTarget((*argv, *pytest_junit_args(default)), default, pytest=True)
    if isinstance(setting, str):
        return JunitTarget(argv, cwd / setting, pytest=False)
    return JunitTarget(argv, None, pytest=False)


def pytest_junit_args(path: Path) -> tuple[str, ...]:
    """The options that make pytest write workflow's JUnit file at `path` (the xunit1
    shape, each test case with its node id; `engine/pytest/plugins/workflow_junit.py`: pytest's
    own writer costs about 60 us a test) and its session's account beside it."""
    return (
        *("-p", JUNIT_PLUGIN, f"{JUNIT_PLUGIN_OPTION}={path}"),
        *("-p", SESSION_PLUGIN, f"{SESSION_PLUGIN_OPTION}={session_file(path)}"),
    )


def without_junit(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`argv` without the options that ask for a JUnit file (pytest's or workflow's)."""
    return without_options(argv, (*JUNIT_OPTIONS, *_OWN_OPTIONS), _OWN_PLUGINS, (JUNIT_FAMILY,))


def mask_file(path: Path, masker: Masker, warnings: WriteWarnings) -> None:
    """Replace secrets in a file a stage's tool wrote into the run directory, in place."""
    if not masker.values:
        return
    with warnings.guard("JUnit file", path):
        data = path.read_bytes()
        masked = masker.mask_bytes(data)
        if masked != data:
            path.write_bytes(masked)


def read_junit(path: Path, *, not_before: float = 0.0) -> list[TestCase] | None:
    """Every test case in the file, in file order; None when the file is missing, older
    than `not_before` (epoch seconds: left by an earlier run), or not JUnit XML.

    A test case with a `nodeid` (workflow's writer) is named by it, and its `line`, which
    pytest counts from 0, is made 1-based; any other is `classname::name`.
    """
    parser = load_lxml()
    try:
        if path.stat().st_mtime < not_before:
            return None
        return list(_cases(parser, path))
    except (OSError, parser.XMLSyntaxError):
        return None


def _cases(parser: ModuleType, path: Path) -> Iterator[TestCase]:
    # huge_tree: a suite's captured output can exceed lxml's default text limits; entities
    # are never resolved and nothing is fetched (the file is a tool's output, not trusted).
    events = parser.iterparse(
        str(path),
        events=("end",),
        tag="testcase",
        huge_tree=True,
        resolve_entities=False,
        no_network=True,
    )
    for _, element in events:
        yield _case(element)
        # Free what was read: a 100 MB file is then read in constant memory.
        element.clear(keep_tail=False)
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def _case(element: etree._Element) -> TestCase:
    # Most tests pass: a test case without children costs a few attribute reads.
    get = element.attrib.get
    test_id = get("nodeid")
    line = _integer(get("line"))
    if test_id is None:
        classname, name = get("classname") or "", get("name") or "?"
        test_id = f"{classname}::{name}" if classname else name
    elif line is not None:
        line += 1  # pytest counts lines from 0
    file = get("file")
    duration_s = max(0.0, _number(get("time")))
    if not len(element):
        return TestCase(test_id, Outcome.PASSED, duration_s, file, line)
    outcome, message = _outcome(element)
    return TestCase(test_id, outcome, duration_s, file, line, message)


def failure_locations(message: str) -> list[tuple[str, int]]:
    """The `path/to/test_x.py:12` places a pytest failure's text names, in order (its last
    frames last); paths are as pytest printed them, relative to where it was started."""
    return [(m.group(1), int(m.group(2))) for m in _FAILED_AT.finditer(message)]


def _outcome(element: etree._Element) -> tuple[Outcome, str | None]:
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in ("failure", "error", "skipped"):
            message = child.get("message") or (child.text or "").strip() or None
            text = (child.text or "").strip()
            if tag != "skipped" and text:
                message = f"{child.get('message') or ''}\n{text}".strip()
            outcome = {"failure": Outcome.FAILED, "error": Outcome.ERROR}.get(tag, Outcome.SKIPPED)
            return outcome, message
    return Outcome.PASSED, None


def load_lxml() -> ModuleType:
    """`lxml.etree`, loaded on first use (about 5 ms).

    lxml costs more start-up than the first stage may wait, and a JUnit file is read only
    once its stage has ended: the run's helper thread loads it while the stages run
    (`pipeline/finish.Finisher.prepare`). This module's one deferred import.
    """
    from lxml import etree  # noqa: PLC0415 - see the docstring

    return etree


def _number(text: str | None) -> float:
    try:
        return float(text) if text else 0.0
    except ValueError:
        return 0.0


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None
