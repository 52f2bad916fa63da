"""The SQLite run history and the stage profiles the planner learns from it.

Imports only `orchestrator.model`.
"""
