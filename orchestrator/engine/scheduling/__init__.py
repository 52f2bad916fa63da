"""The scheduler's policy as plain functions, and its replay: who starts when, on what.

Admission and start priority (`admission`), how much machine the run may use (`sizing`,
`host`), the pool's figures (`metrics`) and the simulated schedule a recorded run is
replayed on (`simulation`, `replay`). Nothing here starts a process; the pool
(`engine/pool.py`) asks these rules.
"""
