"""Which tool a stage runs, by what it is rather than where it sits.

The command's first word is resolved on the stage's PATH (DESIGN "Where stage commands
come from"). A program inside a Python environment (a virtual environment, or the one
running workflow) is identified by its interpreter (version and the binary's content) and
the environment's installed distributions (`name==version`), read through
importlib.metadata without starting a process; any other program by its content. Paths
never count, so a fresh clone with its own environment of the same packages hits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.engine.toolpath import stage_environment

_SHEBANG_READ = 512


@dataclass
class FingerprintMemo:
    """What one run already learned: an environment's distributions, a file's hash.

    Made per run (never kept between runs), so an upgrade between two runs is seen.
    """

    environments: dict[Path, dict[str, str]] = field(default_factory=dict)
    hashes: dict[Path, str] = field(default_factory=dict)

    def file_hash(self, path: Path) -> str:
        """SHA-256 of the file's content, once per run."""
        if path not in self.hashes:
            self.hashes[path] = _content_hash(path)
        return self.hashes[path]


# Across runs in one process (a library caller, the tests), a file's hash is reused while
# its stat identity is unchanged, as git's index reuses a blob id: only to skip hashing,
# never as part of a key.
_HASHED: dict[tuple[Path, int, int, int, int], str] = {}
_LISTED: dict[tuple[str, ...], list[tuple[str, str]]] = {}


def _content_hash(path: Path) -> str:
    info = path.stat()
    identity = (path, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if identity not in _HASHED:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        _HASHED[identity] = digest.hexdigest()
    return _HASHED[identity]


def search_path(stage_env: Mapping[str, str], inherited: Mapping[str, str]) -> str:
    """The PATH a stage's command is looked up on: its own `env.PATH`, else the scripts
    directory of the environment running workflow, then the inherited PATH."""
    if "PATH" in stage_env:
        return stage_env["PATH"]
    return stage_environment(inherited).get("PATH", "")  # the engine's own rule


def resolve_tool(argv0: str, cwd: Path, path: str) -> Path | None:
    """The file the command's first word names, or None when there is none."""
    if os.sep in argv0:
        candidate = cwd / argv0
        return candidate if candidate.is_file() else None
    found = shutil.which(argv0, path=path)
    return None if found is None else Path(found)


def tool_fingerprint(tool: Path | None, name: str, memo: FingerprintMemo) -> dict[str, str]:
    """The tool's identity as flat "part -> value" pairs (what `cache explain` compares).

    Shape: {"tool": name, "interpreter": ..., "python": ..., "dist:NAME": version, ...} for
    a program in a Python environment; {"tool": name, "content": sha256} otherwise;
    {"tool": name, "content": "not found"} when nothing was found.
    """
    parts = {"tool": name}
    if tool is None:
        parts["content"] = "not found"
        return parts
    root = python_environment(tool)
    if root is None:
        parts["content"] = memo.file_hash(tool.resolve())
        return parts
    if not _is_interpreter(tool, root):
        # A console script: its first line names an absolute interpreter path, the rest
        # is what it runs.
        parts["script"] = hashlib.sha256(_after_first_line(tool)).hexdigest()
    parts.update(environment_fingerprint(root, memo))
    return parts


def environment_fingerprint(root: Path, memo: FingerprintMemo) -> dict[str, str]:
    """The interpreter and installed distributions of the Python environment at `root`."""
    if root not in memo.environments:
        parts = {"python": _python_version(root)}
        interpreter = _interpreter(root)
        parts["interpreter"] = "missing" if interpreter is None else memo.file_hash(interpreter)
        for dist in _distributions(root):
            parts[f"dist:{dist[0]}"] = dist[1]
        memo.environments[root] = parts
    return dict(memo.environments[root])


def python_environment(tool: Path) -> Path | None:
    """The root of the Python environment `tool` belongs to, or None.

    A file in an environment's scripts directory (a `pyvenv.cfg` beside it, or the
    environment running workflow) belongs to it; so does a script whose `#!` line names
    such an environment's interpreter.
    """
    bin_dir = tool.absolute().parent
    if (bin_dir.parent / "pyvenv.cfg").is_file():
        return bin_dir.parent
    if bin_dir == Path(sysconfig.get_path("scripts")):
        return Path(sys.prefix)
    interpreter = _shebang_interpreter(tool)
    if interpreter is not None and interpreter != tool:
        return python_environment(interpreter)
    return None


def _shebang_interpreter(tool: Path) -> Path | None:
    try:
        with tool.open("rb") as stream:
            head = stream.read(_SHEBANG_READ)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if not words:
        return None
    if Path(words[0]).name == "env" and len(words) > 1:
        found = shutil.which(words[1])
        return None if found is None else Path(found)
    return Path(words[0]) if "python" in Path(words[0]).name else None


def _is_interpreter(tool: Path, root: Path) -> bool:
    interpreter = _interpreter(root)
    return interpreter is not None and tool.resolve() == interpreter


def _after_first_line(tool: Path) -> bytes:
    try:
        content = tool.read_bytes()
    except OSError:
        return b""
    return content.split(b"\n", 1)[1] if b"\n" in content else b""


def _interpreter(root: Path) -> Path | None:
    for name in ("python3", "python"):
        candidate = root / "bin" / name
        if candidate.exists():
            return candidate.resolve()
    if root == Path(sys.prefix):
        return Path(sys.executable).resolve()
    return None


def _python_version(root: Path) -> str:
    config = root / "pyvenv.cfg"
    if config.is_file():
        values = _pyvenv_values(config)
        version = values.get("version_info") or values.get("version")
        if version:
            system = values.get("include-system-site-packages", "false")
            return f"{version} (system site-packages: {system})"
    if root == Path(sys.prefix):
        return ".".join(str(part) for part in sys.version_info[:3])
    return "unknown"


def _pyvenv_values(config: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _site_directories(root: Path) -> list[str]:
    if root == Path(sys.prefix):
        paths = sysconfig.get_paths()
        return sorted({paths["purelib"], paths["platlib"]})
    return sorted(str(p) for p in root.glob("lib*/python*/site-packages") if p.is_dir())


def _distributions(root: Path) -> list[tuple[str, str]]:
    # The metadata directories' names carry name and version ("six-1.17.0.dist-info"):
    # while the listing is the same, the parsed list is too.
    sites = _site_directories(root)
    listing = tuple(
        sorted(
            f"{site}/{entry.name}"
            for site in sites
            for entry in os.scandir(site)
            if entry.name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))
        )
    )
    if listing not in _LISTED:
        _LISTED[listing] = _read_distributions(sites)
    return list(_LISTED[listing])


def _read_distributions(sites: list[str]) -> list[tuple[str, str]]:
    """(normalized name, version) of every distribution installed in `sites`.

    A `.dist-info` directory's name is "{name}-{version}" with `-` escaped in the name
    (the wheel and installed-distribution specifications), so most are read from the
    listing alone; only names that do not split that way (`.egg-info`, odd installers)
    have their metadata read, through importlib.metadata.
    """
    found: set[tuple[str, str]] = set()
    unparsed: list[Path] = []
    for site in sites:
        for entry in os.scandir(site):
            if entry.name.endswith(".dist-info"):
                name, sep, version = entry.name.removesuffix(".dist-info").partition("-")
                if sep and name and version and "-" not in version:
                    found.add((_normalize(name), version))
                    continue
                unparsed.append(Path(entry.path))
            elif entry.name.endswith(".egg-info"):
                unparsed.append(Path(entry.path))
    if unparsed:
        # importlib.metadata costs start-up time: only odd installations need it.
        from importlib import metadata  # noqa: PLC0415 - see the comment above

        for path in unparsed:
            dist = metadata.PathDistribution(path)
            name = dist.metadata["Name"] if dist.metadata is not None else None
            if name:
                found.add((_normalize(name), dist.version))
    return sorted(found)


def _normalize(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))
