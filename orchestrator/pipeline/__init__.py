"""One run end to end as library calls: plan, run the pool, judge, report, record.

Stands on every layer below (engine, history, configfile, lanes, sla, reports); never
imports `orchestrator.commands` or `orchestrator.cli`.
"""
