"""workflow: run CI quality stages in parallel, measured and held to service-level targets."""

from orchestrator.model.version import __version__

__all__ = ["__version__"]
