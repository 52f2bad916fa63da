"""`python -m orchestrator.engine.proc.callstage pkg.module:function`: a callable, own process.

Running a callable as a child process gives it what command stages have: a measured
process tree, a hard timeout and a clean kill. The one-line error goes to the file named
by WORKFLOW_ERROR_FILE, so the pool can report it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from orchestrator.engine.proc.callables import CallableError, raised, resolve, verdict


def main(argv: list[str]) -> int:
    """Import and call the target; 0 for a pass, 1 for a failure, 2 if it cannot be called."""
    if len(argv) != 1:
        sys.stderr.write(
            "usage: python -m orchestrator.engine.proc.callstage package.module:function\n"
        )
        return 2
    root = os.environ.get("WORKFLOW_IMPORT_ROOT")
    try:
        function = resolve(argv[0], Path(root) if root else Path.cwd())
        failure = verdict(function())
        code = 0 if failure is None else 1
    except CallableError as exc:
        failure, code = str(exc), 2
    except BaseException as exc:  # DESIGN: raising (SystemExit too) is a failure
        failure, code = f"the stage raised {raised(exc)}", 1
    if failure is not None:
        sys.stdout.flush()
        sys.stderr.write(f"workflow: {failure}\n")
        error_file = os.environ.get("WORKFLOW_ERROR_FILE")
        if error_file:
            Path(error_file).write_text(failure + "\n", encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
