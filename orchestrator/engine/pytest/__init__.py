"""What workflow knows of pytest: its command line, its JUnit file, reruns and selection.

pytest's command line is read by one module, `model/pytestargv.py` (the configuration and
the SLA ask it too); `junit`, `testrun`, `testpaths` and `selectrun` read and steer what a
pytest stage did; `plugins/` is loaded inside the
stage's own pytest and imports nothing of workflow.
"""
