"""The jinja2 environment of the HTML reports, with compiled templates cached on disk.

Compiling the report template costs more than rendering it (about a tenth of a second),
and a `workflow run` renders it once per process, so the compiled form is kept in the
user's cache directory (`$XDG_CACHE_HOME/workflow`, else `~/.cache/workflow`), keyed by
the template's checksum and the Python version: an edited or upgraded template is simply
compiled again. The cache is an optimisation only: a directory that cannot be created or
written is skipped, and reports render exactly the same without it; the cache keeps the
first such failure (`failure`) so a run can say so in one warning line.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket


def cache_directory() -> Path | None:
    """Where compiled templates are kept, or None when there is no home to keep them in."""
    configured = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(configured) if configured else Path.home() / ".cache"
    except RuntimeError:  # no home directory can be determined
        return None
    return base / "workflow" / "templates"


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """jinja2's file cache, created on first use, never failing a report."""

    def __init__(self, directory: str) -> None:
        super().__init__(directory)
        self.failure: OSError | None = None

    def load_bytecode(self, bucket: Bucket) -> None:
        """Fill `bucket` from disk if a usable file is there."""
        try:
            super().load_bytecode(bucket)
        except (OSError, ValueError, EOFError):  # unreadable or truncated: compile anew
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Store `bucket` atomically; any filesystem problem just skips the cache."""
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError as exc:
            self.failure = self.failure or exc


def environment() -> jinja2.Environment:
    """The reports' environment: package templates, autoescaping, strict undefined."""
    directory = cache_directory()
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=None if directory is None else QuietBytecodeCache(str(directory)),
    )


def cache_failure(env: jinja2.Environment) -> tuple[Path, OSError] | None:
    """Where `env`'s compiled templates could not be kept, and why; None if they could."""
    cache = env.bytecode_cache
    if isinstance(cache, QuietBytecodeCache) and cache.failure is not None:
        return Path(cache.directory), cache.failure
    return None
