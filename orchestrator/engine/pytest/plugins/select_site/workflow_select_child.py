"""A Python process started by a test that workflow measures: coverage in its context.

Started from `sitecustomize` (this directory is first on PYTHONPATH while a
`workflow_select` session learns) when `WORKFLOW_SELECT_CHILD` holds the session's
settings: the process is measured into `<dir>/child.<pid>.<random>.cov` with the test's
id (`WORKFLOW_SELECT_CONTEXT`) as its static context, and what it reads into the JSON
file beside it. Both are written at exit, at `os._exit` and before an `exec`; a forked
child starts its own files. Standard library and coverage only; Python 3.8+.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
from typing import Any

_STATE: list[Any] = []  # [coverage object, watcher, data file path] of this process


def _plugins_on_path() -> None:
    # The plugin directory holds the shared code; a test may have rebuilt PYTHONPATH.
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if here not in sys.path:
        sys.path.append(here)


def start(restart: bool = False) -> None:
    """Measure this process for the test that started it (`restart`: a forked child
    whose inherited measurement belongs to its parent)."""
    settings = os.environ.get("WORKFLOW_SELECT_CHILD")
    if not settings or (sys.gettrace() is not None and not restart):
        return
    _plugins_on_path()
    from workflow_select_watch import (  # type: ignore[import-not-found]  # noqa: PLC0415
        CONTEXT_ENV,
        Watcher,
        load_coverage,
    )

    try:
        learn: dict[str, Any] = json.loads(settings)
        coverage = load_coverage(learn)
    except (ValueError, ImportError):
        return  # the parent sees no data of this process; its reads stay unknown
    if _STATE:
        _stop_inherited()
    context = os.environ.get(CONTEXT_ENV, "")
    base = os.path.join(str(learn["dir"]), f"child.{os.getpid()}.{os.urandom(4).hex()}")
    watcher = Watcher(str(learn["root"]), list(learn.get("omit", ())))
    watcher.context = context
    cov = coverage.Coverage(
        data_file=base + ".cov",
        config_file=False,
        source=[str(learn["root"])],
        omit=[os.path.join(d, "*") for d in watcher.omit],
        context=context or None,
        branch=False,
    )
    cov.start()
    first = not _STATE
    _STATE[:] = [cov, watcher, base]
    if first:
        _install()


def _stop_inherited() -> None:
    cov = _STATE[0]
    with contextlib.suppress(Exception):  # a measurement that cannot stop is left behind
        cov._auto_save = False
        cov.stop()


def save() -> None:
    """Write this process's measurement and reads (once per measurement)."""
    if not _STATE:
        return
    cov, watcher, base = _STATE
    _STATE.clear()
    with contextlib.suppress(Exception):  # a process must never fail for its measurement
        cov.stop()
        cov.save()
        seen = watcher.current()
        data = {
            "context": watcher.context,
            "reads": sorted(seen.reads),
            "dirs": sorted(seen.dirs),
            "opaque": seen.opaque,
            "read_by": {p: sorted(pieces) for p, pieces in watcher.read_by.items()},
        }
        with open(base + ".json", "w", encoding="utf-8") as out:
            json.dump(data, out)
    _STATE[:] = [cov, watcher, base]  # a later save (atexit after os._exit) is harmless


def _install() -> None:
    atexit.register(save)
    sys.addaudithook(_hook)
    original_exit = os._exit

    def _exit(status: int) -> Any:
        save()
        return original_exit(status)

    os._exit = _exit
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=lambda: start(restart=True))


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _STATE:
        return
    watcher: Any | None = _STATE[1]
    if watcher is not None:
        watcher.audit(event, args)
    if event == "os.exec":
        save()  # the process becomes another program: what ran so far is kept
