"""JUnit XML files: which one a stage writes (pytest gets one added) and what it says.

Real tools write JUnit in many shapes: suites nested in suites, no `time`, a skip with
only a message, files of many megabytes, or no file at all because the tool crashed.
`read_junit` reads any of them incrementally with lxml (memory stays flat on huge files)
and returns None for a file that is missing, stale or not XML: a stage's outcome never
depends on its JUnit file being readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from orchestrator.model.masking import Masker
from orchestrator.model.pytestargv import is_pytest
from orchestrator.model.testresults import Outcome, TestCase
from orchestrator.model.writes import WriteWarnings

if TYPE_CHECKING:
    from types import ModuleType

    from lxml import etree

JUNIT_OPTIONS = ("--junit-xml", "--junitxml")  # both spellings pytest accepts
JUNIT_FAMILY = "junit_family="  # the ini option (`-o junit_family=...`) that picks the shape
JUNIT_PLUGIN = "workflow_junit"  # workflow's writer (engine/plugins), `-p workflow_junit`
JUNIT_PLUGIN_OPTION = "--workflow-junit"
# pytest ends a failure's text with "path/to/test_x.py:12: AssertionError".
_FAILED_AT = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): ", re.MULTILINE)


class JunitTarget(NamedTuple):
    """The command to run and the JUnit file it leaves (None: the stage writes none)."""

    argv: tuple[str, ...]
    path: Path | None
    pytest: bool  # its failed tests can be run again by node id


def named_junit(argv: tuple[str, ...]) -> str | None:
    """The JUnit file `argv` already asks pytest for (`--junit-xml[=]PATH`), if any."""
    for index, arg in enumerate(argv):
        for option in JUNIT_OPTIONS:
            if arg.startswith(option + "="):
                return arg.split("=", 1)[1]
            if arg == option and index + 1 < len(argv):
                return argv[index + 1]
    return None


def junit_target(
    argv: tuple[str, ...], setting: str | bool | None, cwd: Path, default: Path
) -> JunitTarget:
    """Where the stage's JUnit file will be, adding pytest's options when it needs them.

    `setting` is the stage's `junit` key (None: automatic, False: none, a path relative
    to `cwd`); `default` is the file an automatic pytest stage writes (in the run's
    `tests/` directory). xunit1 is asked for because it gives each test's file and line.
    """
    pytest = is_pytest(argv)
    if setting is False:
        return JunitTarget(argv, None, pytest=False)
    if isinstance(setting, str):
        return JunitTarget(argv, cwd / setting, pytest=pytest)
    if not pytest:
        return JunitTarget(argv, None, pytest=False)
    named = named_junit(argv)
    if named is not None:
        return JunitTarget(argv, cwd / named, pytest=True)
    return JunitTarget((*argv, *pytest_junit_args(default)), default, pytest=True)


def pytest_junit_args(path: Path) -> tuple[str, ...]:
    """The options that make pytest write its JUnit file at `path`, in the xunit1 shape
    (the one whose test cases carry their file and line), with workflow's own writer
    (`engine/plugins/workflow_junit.py`: pytest's costs about 60 us a test)."""
    return ("-p", JUNIT_PLUGIN, f"{JUNIT_PLUGIN_OPTION}={path}")


def without_junit(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`argv` without the options that ask for a JUnit file (pytest's or workflow's)."""
    kept: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        following = argv[index + 1] if index + 1 < len(argv) else ""
        pair = (arg, following)
        if (
            arg in (*JUNIT_OPTIONS, JUNIT_PLUGIN_OPTION)
            or pair == ("-o", f"{JUNIT_FAMILY}xunit1")
            or (arg == "-o" and following.startswith(JUNIT_FAMILY))
            or pair == ("-p", JUNIT_PLUGIN)
        ):
            index += 2
            continue
        index += 1
        prefixes = tuple(f"{option}=" for option in (*JUNIT_OPTIONS, JUNIT_PLUGIN_OPTION))
        if arg.startswith(prefixes) or arg == f"-p{JUNIT_PLUGIN}":
            continue
        kept.append(arg)
    return tuple(kept)


def mask_file(path: Path, masker: Masker, warnings: WriteWarnings) -> None:
    """Replace secrets in a file a stage's tool wrote into the run directory, in place."""
    if not masker.values:
        return
    with warnings.guard("JUnit file", path):
        data = path.read_bytes()
        masked = masker.mask_bytes(data)
        if masked != data:
            path.write_bytes(masked)


def read_junit(
    path: Path, *, not_before: float = 0.0, pytest: bool = False
) -> list[TestCase] | None:
    """Every test case in the file, in file order; None when the file is missing, older
    than `not_before` (epoch seconds: left by an earlier run), or not JUnit XML.

    `pytest`: the file came from pytest, whose `line` attributes count from 0.
    """
    parser = load_lxml()
    try:
        if path.stat().st_mtime < not_before:
            return None
        return list(_cases(parser, path, pytest=pytest))
    except (OSError, parser.XMLSyntaxError):
        return None


def _cases(parser: ModuleType, path: Path, *, pytest: bool) -> Iterator[TestCase]:
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
    # A suite's tests share a few (classname, file) pairs: each id prefix is worked out once.
    prefixes: dict[tuple[str, str | None], str] = {}
    for _, element in events:
        yield _case(element, prefixes, pytest=pytest)
        # Free what was read: a 100 MB file is then read in constant memory.
        element.clear(keep_tail=False)
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def _case(
    element: etree._Element, prefixes: dict[tuple[str, str | None], str], *, pytest: bool
) -> TestCase:
    # Most tests pass: a test case without children costs a few attribute reads.
    get = element.attrib.get
    name = get("name") or "?"
    classname = get("classname") or ""
    file = get("file")
    key = (classname, file)
    prefix = prefixes.get(key)
    if prefix is None:
        prefix = prefixes[key] = node_id(classname, "", file, pytest=pytest)
    test_id = prefix + name
    line = _integer(get("line"))
    if line is not None and pytest:
        line += 1  # pytest counts lines from 0
    duration_s = max(0.0, _number(get("time")))
    if not len(element):
        return TestCase(test_id, Outcome.PASSED, duration_s, file, line)
    outcome, message = _outcome(element)
    if outcome.bad and message:
        found = [m for m in _FAILED_AT.finditer(message) if file is None or m.group(1) == file]
        if found:
            file, line = found[-1].group(1), int(found[-1].group(2))
    return TestCase(test_id, outcome, duration_s, file, line, message)


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


def node_id(classname: str, name: str, file: str | None, *, pytest: bool = False) -> str:
    """pytest's node id when the file is known (`tests/test_x.py::TestC::test_a[1]`) or
    the file came from pytest (`pytest`), else `classname::name`, so a test keeps one id
    across runs of the same tool.

    pytest's `file` is where the test function is written, and `classname` the module
    that collected it, dotted, with its classes: they differ for a test inherited from a
    base class (or imported) from another file, and pytest's default shape (xunit2) has
    no `file` at all. The id is then the collecting module's, as pytest's node id is: its
    path is the dotted classname up to the first class, which by convention starts with
    a capital letter (`tests.test_b.TestB` -> `tests/test_b.py`).
    """
    if file and file.endswith(".py"):
        module = file[: -len(".py")].replace("/", ".").replace("\\", ".")
        if not classname or classname == module or classname.startswith(module + "."):
            rest = classname[len(module) + 1 :].split(".") if len(classname) > len(module) else []
            return "::".join([file, *rest, name])
        pytest = True
    if pytest and classname:
        parts = classname.split(".")
        classes = next((i for i, part in enumerate(parts) if part[:1].isupper()), len(parts))
        if classes > 0:
            return "::".join(["/".join(parts[:classes]) + ".py", *parts[classes:], name])
    return f"{classname}::{name}" if classname else name


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
