"""pytest plugin: what the session was given to run, what started, and why it stopped.

A stage passes only if every test it was given ran (DESIGN.md, "Nothing incomplete
passes"): `-x`, `--maxfail`, `--sw`, a collection error, a KeyboardInterrupt, a
`pytest.exit()` end a session with tests that never ran, and its exit status alone does
not always say so (`pytest.exit(returncode=0)`, `os._exit(0)` in a test). This plugin
(`-p workflow_session --workflow-session=PATH`, loaded by workflow next to its JUnit
writer) writes one small file:

- once collection is over, a first line `{"given": N, "rootdir": "..."}`: the tests left
  after every selection (`-k`, `-m`, `--deselect`, `--lf`, a split part's share; what the
  user deselected is not owed), then one line per test as it starts (its node id),
  written at once, unbuffered: all that survives a segfault, `os._exit` or a kill;
- at the session's end the whole file is replaced (atomically) by one line
  `{"given": N, "not_run": K, "stopped": "...", "rootdir": "...", "finished": true}`.

So a file whose first line lacks `finished` is a session that never ended, and its lines
say how many tests started and which one was running. Under pytest-xdist only the
controller writes (workers' selections reach it by `pytest_xdist_node_collection_finished`;
their test starts by `pytest_runtest_logstart`).

It runs inside the stage's own Python environment (3.8 or later): standard library and
pytest only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--workflow-session=PATH`: where to write what the session was given and ran."""
    parser.getgroup("workflow").addoption(
        "--workflow-session", dest="workflow_session", default=None, metavar="PATH"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Keep the account only when asked, and not in an xdist worker (its controller does)."""
    path = config.getoption("workflow_session")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(SessionLog(Path(path), config), "workflow-session-log")


class SessionLog:
    """The session's account of its tests, kept in one file (see the module's docstring)."""

    def __init__(self, path: Path, config: pytest.Config) -> None:
        self.path = path
        self.rootdir = str(config.rootpath)
        self.collect_only = bool(config.getoption("collectonly", False))
        self.given: list[str] | None = None
        self.started: set[str] = set()
        self.fd: int | None = None
        self.interrupted: str | None = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The tests left after every selection: what the session owes."""
        self._given([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """Under pytest-xdist the controller collects nothing; each worker's selection (the
        same in every worker) is what the session owes."""
        if self.given is None:
            self._given(list(ids))

    def _given(self, ids: list[str]) -> None:
        self.given = [] if self.collect_only else ids  # --collect-only owes no test run
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            head = {"given": len(self.given), "rootdir": self.rootdir}
            os.write(self.fd, (json.dumps(head) + "\n").encode())
        except OSError:
            self.fd = None  # the end of the session still writes the whole account

    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> None:
        """A test starts: one line, written at once."""
        self.started.add(nodeid)
        if self.fd is not None:
            try:
                os.write(self.fd, nodeid.encode("utf-8", "replace") + b"\n")
            except OSError:
                self.fd = None

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, or pytest's own `Interrupted` ("1 error during collection", xdist's
        "stopping after 1 failures"): its words say why tests did not run."""
        self.interrupted = str(excinfo.value).strip() or "interrupted"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Replace the running account with the whole one."""
        given = self.given or []
        not_run = sum(1 for nodeid in given if nodeid not in self.started)
        account: dict[str, Any] = {"given": len(given), "not_run": not_run}
        if not_run:
            account["stopped"] = self._stopped(session, int(exitstatus))
        account.update(rootdir=self.rootdir, finished=True)
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            partial.write_text(json.dumps(account) + "\n", encoding="utf-8")
            partial.replace(self.path)
        except OSError:
            pass  # workflow then reads a session that did not end, and says so

    def _stopped(self, session: pytest.Session, exitstatus: int) -> str:
        """Why tests did not run, in pytest's words where it has them."""
        for reason in (session.shouldfail, session.shouldstop, self.interrupted):
            if isinstance(reason, str) and reason:
                return reason
        return f"pytest exited with status {exitstatus}"
