"""Service-level targets: verdicts, bottlenecks and trends over run records."""
