"""The values every package shares: configuration, records, statuses, errors, masking, units.

Also the one order of runs (`run_order`) that history, trends and the planner all use.

The bottom layer: nothing here imports another part of the project, so lanes, sla, reports
and the rest of orchestrator can all stand on it without an import cycle.
"""
