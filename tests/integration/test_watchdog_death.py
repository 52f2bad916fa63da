"""The watchdog: it ends a run's stages when workflow dies without a word, and only then.

Real processes; the watchdog's side runs in a process that ends with `os._exit`.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import psutil

from orchestrator.engine.proc.watchdog_link import Watchdog
from tests.integration.test_leftovers import PY, SLACK_S, _zombie_pid, wait_for

WITNESS = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"

# workflow's side of the watchdog in a process that dies without a word (os._exit).
DIES = """
import sys, time
from orchestrator.engine.proc.watchdog_link import Watchdog
watchdog = Watchdog(sys.argv[1])
watchdog.stage(sys.argv[1] + ".1", 0.5)
watchdog.start()
print(watchdog.process.pid, flush=True)
import os; os._exit(0)
"""


def test_the_watchdog_ends_the_stages_only_when_workflow_dies(tmp_path: Path) -> None:
    prefix = f"test-{os.getpid()}"
    env = {**os.environ, "WORKFLOW_TREE": f"{prefix}.1"}
    # In a session of its own, as a stage is; a group it does not lead is never signalled.
    witness = subprocess.Popen([PY, "-c", WITNESS], env=env, start_new_session=True)
    try:
        # A run that ends normally says so: the watchdog leaves, the process is untouched.
        calm = Watchdog(prefix)
        calm.start()
        calm.close()
        assert calm.process is not None
        assert calm.process.wait(timeout=SLACK_S) == 0
        assert witness.poll() is None
        # A run that dies: the watchdog TERMs (ignored here), then KILLs after the grace.
        dying = subprocess.run(
            [PY, "-c", DIES, prefix], capture_output=True, text=True, check=True, timeout=60
        )
        watchdog_pid = int(dying.stdout)
        assert witness.wait(timeout=0.5 + 1 + SLACK_S) == -signal.SIGKILL
        assert wait_for(
            lambda: not psutil.pid_exists(watchdog_pid) or _zombie_pid(watchdog_pid), SLACK_S
        )
    finally:
        witness.kill()
        witness.wait()
