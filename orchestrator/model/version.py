"""The version workflow reports (`workflow --version`, the reports' footers).

At the bottom, so the reports read it without importing the root package, which sits on
top (`orchestrator/cli.py`); hatch reads it from here too (pyproject `[tool.hatch.version]`).
"""

__version__ = "0.1.0"
