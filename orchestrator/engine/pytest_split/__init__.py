"""The pytest plugin a split stage's parts load (`-p workflow_split`, this directory on
PYTHONPATH): it lives alone here so that nothing else of workflow is importable by it."""
