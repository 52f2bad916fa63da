"""What workflow knows of pytest: its command line, its JUnit file, reruns and selection.

`argv` is the one reader of a pytest command line; `junit`, `testrun`, `testpaths` and
`selectrun` read and steer what a pytest stage did; `plugins/` is loaded inside the
stage's own pytest and imports nothing of workflow.
"""
