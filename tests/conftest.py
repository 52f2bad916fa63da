"""Shared test set-up: a fixed git identity, pytest-randomly off for the pytest stages
that tests start (those about it turn it back on), and property tests that hold no time
limit.

Hypothesis fails an example that takes longer than 200 ms (its deadline) and a test whose
examples are slow to draw (the too_slow health check). On a loaded machine (a shared CI
runner, the suite beside a build) either happens for reasons that have nothing to do with
the property under test, so neither applies here: properties are held, not speeds.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

os.environ.setdefault("GIT_AUTHOR_NAME", "workflow tests")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@workflow.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "workflow tests")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "tests@workflow.invalid")
os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
# Projects made in tmp_path run their tests in declared order: pytest-randomly (in the
# dev extra) shuffles only where a test asks for it, by dropping this variable.
RANDOM_ORDER_OFF = "-p no:randomly"
os.environ["PYTEST_ADDOPTS"] = f"{RANDOM_ORDER_OFF} {os.environ.get('PYTEST_ADDOPTS', '')}".strip()

settings.register_profile("workflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("workflow")
