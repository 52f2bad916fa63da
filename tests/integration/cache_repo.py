"""A small real project in a real git repository, and its stages' cache keys.

Shared by the cache tests: `make_repo` commits a project with sources, tests, docs, tool
configuration and ignored build output; `keys` computes the stages' keys through the
library, exactly as a run does before its stages start.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from orchestrator.cache.key import KeyParts, StageIdentity
from orchestrator.model.config import StageConfig
from orchestrator.pipeline.cachekeys import current_keys

FILES = {
    "src/pkg/__init__.py": '"""The package."""\n__version__ = "1.0"\n',
    "src/pkg/core.py": "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n",
    "src/pkg/util.py": "import os\n\nHOME = os.environ.get('HOME', '')\n",
    "tests/test_core.py": (
        "from pkg.core import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    ),
    "tests/conftest.py": "import sys\nsys.path.insert(0, 'src')\n",
    "pyproject.toml": (
        '[project]\nname = "pkg"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 100\n\n'
        "[tool.mypy]\nstrict = true\n"
    ),
    "mypy.ini": "[mypy]\nwarn_unused_ignores = True\n",
    "docs/guide.md": "# Guide\n\nHow to add numbers.\n",
    "README.md": "# pkg\n\nAdds numbers.\n",
    ".gitignore": "build/\n*.log\n.workflow/\n",
}
SALT = bytes(32)  # a fixed salt: keys here are compared within one test
NARROW_INPUTS = ("src/**", "tests/**", "pyproject.toml", "mypy.ini")


def git(repo: Path, *args: str) -> str:
    """Run git in `repo`; its standard output."""
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def make_repo(repo: Path) -> Path:
    """Write FILES, commit them, and return `repo`."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    for name, text in FILES.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "project")
    return repo


def stages(
    repo: Path, python: str = sys.executable, cache_env: tuple[str, ...] = ("PKG_MODE",)
) -> list[StageIdentity]:
    """Two stages: `narrow` reads declared inputs, `wide` every file git would track."""
    command = (python, "-c", "import pkg")
    excluded = (repo / ".workflow",)
    return [
        StageIdentity(
            "narrow",
            StageConfig(run=command, inputs=NARROW_INPUTS, cache_env=cache_env),
            repo,
            excluded,
        ),
        StageIdentity("wide", StageConfig(run=command, cache_env=cache_env), repo, excluded),
    ]


def keys(stage_list: list[StageIdentity], environ: Mapping[str, str]) -> dict[str, str]:
    """Each stage's key digest; a stage that cannot be cached fails the test."""
    found = current_keys(stage_list, environ, SALT)
    digests = {}
    for name, parts in found.items():
        assert isinstance(parts, KeyParts), f"{name}: {parts}"
        digests[name] = parts.digest()
    return digests
