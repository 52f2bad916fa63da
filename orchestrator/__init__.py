"""workflow: run CI quality stages in parallel, measured and held to service-level targets."""

__version__ = "0.1.0"
