"""Shared test set-up: a fixed git identity, so tests never depend on the machine's config."""

from __future__ import annotations

import os

os.environ.setdefault("GIT_AUTHOR_NAME", "workflow tests")
os.environ.setdefault("GIT_AUTHOR_EMAIL", "tests@workflow.invalid")
os.environ.setdefault("GIT_COMMITTER_NAME", "workflow tests")
os.environ.setdefault("GIT_COMMITTER_EMAIL", "tests@workflow.invalid")
os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
