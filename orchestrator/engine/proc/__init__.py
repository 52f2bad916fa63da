"""A stage's process trees: starting them, sampling them, ending all of them.

The launch of one attempt (`process`), the tree and its sampler (`proctree`, `monitor`,
`adoption`), the watchdog that outlives a killed workflow, the OOM and spawn-failure
verdicts (`oom`, `breaker`, `unstarted`) and callable stages in their own process. The
watchdog imports this package as `python -S -m`: keep this file free of imports.
"""
