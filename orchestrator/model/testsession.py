"""Whether a pytest session ran every test it was given (pure).

DESIGN.md, "Nothing incomplete passes": a stage passes only if the work it was given ran.
A pytest session owes the tests left after every selection (what `-k`, `-m`,
`--deselect` or a split part's share left out is not owed); `-x`, `--maxfail`, `--sw`,
a collection error, an interruption or a crash leave some of them unrun, and that is a
failure whatever the exit status says, which no rerun of the failed tests can mend.
The account comes from workflow's pytest plugin `engine/pytest/plugins/workflow_session.py`:
its file is either the finished account (one JSON line with `finished`) or, for a session
that never ended, a JSON first line (`given`) and one line per test that started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SessionAccount:
    """A pytest session's account of its tests.

    `given`: tests it owed; `not_run`: how many of them never started; `stopped`: why,
    in pytest's words; `rootdir`: the directory its node ids are relative to;
    `finished`: the session reached its end (False: a crash, `os._exit`, a kill);
    `running`: for a session that did not finish, the last test that started.
    """

    given: int
    not_run: int
    stopped: str | None = None
    rootdir: str | None = None
    finished: bool = True
    running: str | None = None

    @property
    def complete(self) -> bool:
        """Every test it owed started, and the session ended."""
        return self.finished and self.not_run == 0


def parse_account(text: str) -> SessionAccount | None:
    """The account in a session file's text; None when there is none (an empty file, or
    not the plugin's)."""
    lines = text.splitlines()
    try:
        head = json.loads(lines[0]) if lines else None
        given = int(head["given"]) if isinstance(head, dict) else -1
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(head, dict) or given < 0:
        return None
    rootdir = head.get("rootdir")
    rootdir = rootdir if isinstance(rootdir, str) else None
    if head.get("finished") is True:
        stopped = head.get("stopped")
        try:
            not_run = max(0, int(head.get("not_run", 0)))
        except (ValueError, TypeError):
            return None
        return SessionAccount(
            given, not_run, stopped if isinstance(stopped, str) else None, rootdir
        )
    started = [line for line in lines[1:] if line]
    not_run = max(0, given - len(set(started)))
    running = started[-1] if started else None
    return SessionAccount(given, not_run, None, rootdir, finished=False, running=running)


def incomplete_error(account: SessionAccount | None, exit_code: int | None) -> str | None:
    """The stage's one-line error when its session did not run everything it owed; None
    when it did. `account` None: pytest wrote none (it ended before collecting, or before
    workflow's plugin loaded); `exit_code` is the pytest process's."""
    status = f"exit {exit_code}" if exit_code is not None else "no exit status"
    if account is None:
        return f"pytest gave no account of its tests ({status}): none is known to have run"
    if account.complete:
        return None
    if not account.finished:
        where = f" while {account.running} ran" if account.running else " before any test"
        return (
            f"pytest ended before its session did ({status}){where}: "
            f"{account.not_run} of {account.given} tests never started"
        )
    why = f" ({account.stopped})" if account.stopped else ""
    return f"stopped early{why}: {account.not_run} of {account.given} tests did not run"
