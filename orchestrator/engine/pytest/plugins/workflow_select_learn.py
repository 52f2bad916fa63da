"""What each test of a pytest session runs and reads, for `workflow_select` (see there).

Coverage.py measures the lines; a context per test (setup, call, teardown), per fixture
wider than a function, and "" for everything outside a test (collection and imports).
An audit hook records the files and directories the project's own code opens or lists
(a frame of a project file on the stack, the import system's own reads left out), the
modules it imports by name (`importlib.import_module`), and the processes a test starts
that workflow cannot follow (an environment without workflow's variables, or a Python
started with -I, -E or -S): such a test is "opaque" and always runs. Python processes
started with the environment they inherit measure themselves (`select_site`) into
`<dir>/child.*` files, read back here at the end.

Standard library and coverage only (coverage loads when learning starts); Python 3.8+.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The stage finds workflow's plugins as top-level modules (their directory is first on
# its PYTHONPATH); the type checker sees them as orchestrator.engine.pytest.plugins.*.
from workflow_select_table import Table  # type: ignore[import-not-found]
from workflow_select_watch import (  # type: ignore[import-not-found]
    CHILD_ENV,
    CONTEXT_ENV,
    READING,
    SITE_DIR,
    STARTING,
    Seen,
    Watcher,
    load_coverage,
    omitted,
    under,
)


def start_problem(learn: dict[str, Any]) -> str | None:
    """Why this process cannot learn, in one phrase; None when it can."""
    if sys.gettrace() is not None:
        return "another tracer (coverage, a debugger) is active in the stage"
    try:
        coverage = load_coverage(learn)
    except ImportError:
        return (
            "coverage is not importable in the stage's environment (workflow's own needs "
            f"{learn.get('python')}, the stage runs {sys.implementation.cache_tag}); "
            "install coverage in it"
        )
    if not hasattr(coverage.Coverage, "switch_context"):
        return f"coverage {coverage.__version__} in the stage's environment is older than 5.0"
    return None


class Learner:
    """Coverage contexts, the audit hook and the environment of started processes."""

    def __init__(self, learn: dict[str, Any]) -> None:
        coverage = load_coverage(learn)
        root = os.path.realpath(str(learn["root"]))
        self.child_dir = str(learn["dir"])
        self.watcher = Watcher(root, omitted(list(learn.get("omit", ()))))
        self.why_not: str | None = None
        self.stack: list[str] = [""]
        self.fixtures: dict[str, list[str]] = {}
        self.cov = coverage.Coverage(
            data_file=None,
            config_file=False,
            source=[root],
            omit=[os.path.join(d, "*") for d in self.watcher.omit],
            branch=False,
        )
        # coverage's sys.monitoring core (its default from Python 3.14) records no
        # dynamic contexts: every line would land in one context. The C tracer does.
        with contextlib.suppress(Exception):  # a coverage without the option has no sysmon
            self.cov.set_option("run:core", "ctrace")
        self.cov.start()
        core = getattr(self.cov, "_core", None)
        if core is not None and not getattr(core, "supports_dynamic_contexts", True):
            self.cov.stop()
            self.why_not = "coverage cannot tell the tests apart here (no dynamic contexts)"
            return
        os.environ[CHILD_ENV] = json.dumps({**learn, "root": root, "omit": self.watcher.omit})
        os.environ[CONTEXT_ENV] = ""
        known = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join([SITE_DIR, *([known] if known else [])])
        _install(self)

    def _switch(self, context: str) -> None:
        self.watcher.context = context
        self.cov.switch_context(context)
        os.environ[CONTEXT_ENV] = context

    def enter_test(self, item: Any) -> None:
        """The test's own context, and the wider fixtures it uses."""
        self.fixtures[item.nodeid] = _wide_fixtures(item)
        self.stack = ["", item.nodeid]
        self._switch(item.nodeid)

    def leave_test(self) -> None:
        """Back outside any test."""
        self.stack = [""]
        self._switch("")

    def enter_fixture(self, fixturedef: Any) -> bool:
        """A fixture wider than a function: its setup in a context of its own."""
        if str(getattr(fixturedef, "scope", "function")) == "function":
            return False
        self.stack.append(fixture_context(fixturedef))
        self._switch(self.stack[-1])
        return True

    def leave_fixture(self) -> None:
        """Back to the context the fixture was requested in."""
        if len(self.stack) > 1:
            self.stack.pop()
        self._switch(self.stack[-1])

    # -- the end ---------------------------------------------------------------------
    def finish(self, config: Any) -> dict[str, Any]:
        """Stop measuring; everything learned, as `workflow_select` writes it."""
        coverage = sys.modules["coverage"]
        if coverage.Coverage.current() is not self.cov:
            self.why_not = "another coverage measurement (pytest-cov's --cov?) ran in the stage"
        self.cov.stop()
        os.environ.pop(CHILD_ENV, None)
        root = self.watcher.root
        table = Table(root)
        table.add_data(self.cov.get_data())
        seen = self.watcher.seen
        children: dict[str, set[tuple[str, str]]] = {}
        for data_file in sorted(Path(self.child_dir).glob("child.*.cov")):
            table.add_child(coverage, data_file, seen, children)
        contexts = {name: table.context(name, record) for name, record in seen.items()}
        for name in table.contexts:
            contexts.setdefault(name, table.context(name, Seen()))
        return {
            "root": root,
            "rootdir": os.path.relpath(str(config.rootpath), root),
            "files": table.files,
            "pieces": table.pieces,
            "contexts": contexts,
            "fixtures": self.fixtures,
            "read_by": {
                path: sorted([file, name] for file, name in pieces)
                for path, pieces in sorted(_read_by(self.watcher.read_by, children).items())
            },
            "modules": _modules(root, self.watcher.omit),
            "plugins": _plugins(config, root),
            "python_files": list(config.getini("python_files")),
        }


def fixture_context(fixturedef: Any) -> str:
    """The coverage context of a fixture wider than a function."""
    return f"fixture:{getattr(fixturedef, 'baseid', '')}::{fixturedef.argname}"


def _wide_fixtures(item: Any) -> list[str]:
    """The contexts of the fixtures wider than a function that `item` uses."""
    info = getattr(item, "_fixtureinfo", None)
    definitions = getattr(info, "name2fixturedefs", {}) or {}
    found = []
    for name in getattr(item, "fixturenames", ()):
        chain = definitions.get(name)
        if chain and str(getattr(chain[-1], "scope", "function")) != "function":
            found.append(fixture_context(chain[-1]))
    return found


def _read_by(
    *maps: dict[str, set[tuple[str, str]]],
) -> dict[str, set[tuple[str, str]]]:
    joined: dict[str, set[tuple[str, str]]] = {}
    for found in maps:
        for path, pieces in found.items():
            joined.setdefault(path, set()).update(pieces)
    return joined


def _modules(root: str, omit: list[str]) -> dict[str, str]:
    """Module name -> file (relative to `root`) of every loaded module of the project."""
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not isinstance(path, str):
            continue
        real = os.path.realpath(path)
        if under(real, root) and not any(under(real, d) for d in omit):
            found[name] = os.path.relpath(real, root)
    return found


def _plugins(config: Any, root: str) -> list[str]:
    """Files of the project that pytest loaded as plugins (conftests, `-p` modules)."""
    found = set()
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if isinstance(path, str) and under(os.path.realpath(path), root):
            found.add(os.path.relpath(os.path.realpath(path), root))
    return sorted(found)


_ACTIVE: list[Learner] = []
_INSTALLED: list[bool] = []


def _install(learner: Learner) -> None:
    """The audit hook, the fork handler and the named-import record, once a process (an
    audit hook cannot be removed: it stays, and serves the newest learner)."""
    if not _INSTALLED:
        _INSTALLED.append(True)
        sys.addaudithook(_hook)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_forked)
        importlib.import_module = _recording(importlib.import_module)
    _ACTIVE[:] = [learner]


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _ACTIVE and (event in READING or event in STARTING):
        _ACTIVE[0].watcher.audit(event, args)


def _recording(original: Callable[..., Any]) -> Callable[..., Any]:
    def import_module(name: str, package: str | None = None) -> Any:
        module = original(name, package)
        if _ACTIVE:
            _ACTIVE[0].watcher.current().imports.add(module.__name__)
        return module

    return import_module


def _forked() -> None:
    """A forked child (multiprocessing) measures itself as a started process does."""
    if not _ACTIVE:
        return
    learner = _ACTIVE.pop()
    with contextlib.suppress(Exception):  # the child goes on unmeasured rather than failing
        learner.cov.stop()
    sys.path.insert(0, SITE_DIR)
    try:
        import workflow_select_child  # type: ignore[import-not-found]  # noqa: PLC0415

        workflow_select_child.start(restart=True)
    finally:
        sys.path.remove(SITE_DIR)
