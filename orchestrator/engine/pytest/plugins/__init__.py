"""workflow's pytest plugins, loaded inside a pytest stage's own environment with
`-p NAME` (this directory first on the stage's PYTHONPATH): `workflow_junit` writes the
stage's JUnit file, `workflow_session` the session's account of what it was given and
what never ran, `workflow_split` keeps a split stage's part of the tests. They live
alone here so that nothing else of workflow is importable by the stage."""

from pathlib import Path

PLUGIN_DIR = Path(__file__).parent
