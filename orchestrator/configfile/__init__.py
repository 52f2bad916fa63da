"""workflow.toml / `[tool.workflow]`: find, read, validate and fill in defaults.

Imports only `orchestrator.model`; the values it builds live in `orchestrator.model.config`.
"""
