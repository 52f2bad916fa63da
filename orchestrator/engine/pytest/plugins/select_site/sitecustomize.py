"""Measure Python processes that tests start while workflow learns what each test runs.

This directory is first on PYTHONPATH only while a `workflow_select` session learns;
without `WORKFLOW_SELECT_CHILD` in the environment nothing happens. Another
`sitecustomize` further along the path (a distribution's, the system's) still runs.
"""

import contextlib
import importlib.util
import os
import sys


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    # As site.py does: a broken sitecustomize is not fatal.
    with contextlib.suppress(Exception):
        from importlib.machinery import PathFinder  # noqa: PLC0415 - only to chain

        spec = PathFinder.find_spec("sitecustomize", others)
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)


def _measure() -> None:
    if not os.environ.get("WORKFLOW_SELECT_CHILD"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    try:
        # The process runs unmeasured rather than not at all.
        with contextlib.suppress(Exception):
            import workflow_select_child  # type: ignore[import-not-found]  # noqa: PLC0415

            workflow_select_child.start()
    finally:
        sys.path.remove(here)


_measure()
_chain()
