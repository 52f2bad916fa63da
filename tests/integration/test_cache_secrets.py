"""A secret in a stage's `env` changes the cache key without leaving a guessable digest.

Real git repositories, the real `workflow` command, real stage processes and the real
cache files they leave.
"""

from __future__ import annotations

import hashlib
import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cache.store import CacheStore
from tests.integration.cache_repo import git, make_repo
from tests.integration.command import workflow

pytestmark = pytest.mark.integration

SECRET = "hunter2-correct-horse"  # nosec B105


def config(token: str) -> str:
    code = "import os; print('token of', len(os.environ['API_TOKEN']), 'characters')"
    return (
        f"[stages.deploy]\nrun = [{json.dumps(sys.executable)}, '-c', {json.dumps(code)}]\n"
        f"env = {{ API_TOKEN = {json.dumps(token)}, MODE = 'fast' }}\n"
    )


def commit_config(repo: Path, token: str) -> None:
    (repo / "workflow.toml").write_text(config(token), encoding="utf-8")
    git(repo, "add", "workflow.toml")
    git(repo, "commit", "-q", "-m", "config")


def deploy(repo: Path) -> dict[str, Any]:
    done = workflow(repo, "run", "--lane", "heavy", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    path = sorted((repo / ".workflow" / "reports").glob("*/run.json"))[-1]
    (stage,) = json.loads(path.read_text())["stages"]
    assert isinstance(stage, dict)
    return stage


def unsalted(env: dict[str, str]) -> str:
    """The digest an unsalted key would hold for the stage's env table."""
    text = json.dumps(env, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def test_a_secret_env_value_is_keyed_under_the_cache_s_own_salt(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "project")
    commit_config(repo, SECRET)
    first = deploy(repo)
    assert first["cache"]["stored"] is True
    assert deploy(repo)["cache"]["hit"] is True  # the same secret: the same key
    cache = repo / ".workflow" / "cache"
    salt = cache / "salt"
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert CacheStore(cache, 1 << 20).salt() == salt.read_bytes()
    stored = b"".join(path.read_bytes() for path in cache.rglob("*.entry"))
    assert unsalted({"API_TOKEN": SECRET, "MODE": "fast"}).encode() not in stored
    assert SECRET.encode() not in stored
    commit_config(repo, SECRET + "-rotated")
    rotated = deploy(repo)
    assert rotated["cache"]["hit"] is False and rotated["cache"]["stored"] is True
    assert rotated["cache"]["key"] != first["cache"]["key"]


def test_another_cache_keys_the_same_secret_differently(tmp_path: Path) -> None:
    keys = []
    for name in ("one", "two"):
        repo = make_repo(tmp_path / name)
        commit_config(repo, SECRET)
        keys.append(deploy(repo)["cache"]["key"])
    assert keys[0] != keys[1]
