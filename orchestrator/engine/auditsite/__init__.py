"""workflow's audit of what a stage reads (`workflow cache audit`): this directory goes
first on the stage's PYTHONPATH, so every Python process of the stage, its subprocesses
included, loads `sitecustomize.py` from here, which records the files it opens. Nothing
else of workflow is importable from here."""

from pathlib import Path

AUDIT_DIR = Path(__file__).parent
LOG_VARIABLE = "WORKFLOW_AUDIT_LOG"  # the file every process appends its lines to
