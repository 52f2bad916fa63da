"""Python environments as the key knows them: their interpreter and what is installed.

An environment is its root (`sys.prefix`: a virtualenv, a conda or pyenv install, the
system's `/usr`). Its fingerprint is flat "part -> text" pairs: the interpreter's version
and binary, and for each installed distribution its version (`dist:NAME`) and a digest of
its `RECORD` (`files:NAME`: the installed files' hashes, so a package reinstalled in place
with other content at the same version changes the key too). Paths never count, so a
clone with its own environment of the same packages, elsewhere, hits; a distribution's
generated scripts (whose `#!` line names the environment's path) and compiled bytecode
are left out of the digest for the same reason. Everything is read from the file system
without starting a process, and remembered by the directory's identity within a process.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.cache.remembered import REMEMBERED, SETTLED_NS
from orchestrator.cache.scripts import scripts_fingerprint

# RECORD lines left out of a distribution's digest: files outside the site directory
# (scripts whose `#!` names the environment's path), editable installs' path finders,
# bytecode, and the installer's notes (`direct_url.json` names the source's path).
_LEFT_OUT = re.compile(r"^(?:\.\./|[^,\n]*\.pyc,).*\n?", re.MULTILINE)
_EDITABLE = re.compile(r"__editable__|_editable_impl_|/direct_url\.json,|\.pth,")


@dataclass
class EnvironmentMemo:
    """What one run already learned about environments; made per run, never kept."""

    fingerprints: dict[Path, dict[str, str]] = field(default_factory=dict)
    hashes: dict[Path, str] = field(default_factory=dict)
    configs: dict[Path, dict[str, Path]] = field(default_factory=dict)  # cwd -> files

    def file_hash(self, path: Path) -> str:
        """SHA-256 of the file's content, once per run."""
        if path not in self.hashes:
            self.hashes[path] = content_hash(path)
        return self.hashes[path]


def content_hash(path: Path) -> str:
    """SHA-256 (hex) of a file's content; remembered while its stat identity holds."""
    info = path.stat()
    found = REMEMBERED.get(path, info)
    if found is None:
        digest = hashlib.sha256()
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        found = digest.hexdigest()
        REMEMBERED.put(path, info, found)
    return found


def environment_fingerprint(root: Path, memo: EnvironmentMemo) -> dict[str, str]:
    """The interpreter and installed distributions of the Python environment at `root`.

    Shape: {"python": "3.11.7 (system site-packages: false)", "interpreter": sha256,
    "dist:NAME": version, "files:NAME": digest, "bin:PROGRAM": digest, ...}.
    """
    if root not in memo.fingerprints:
        version, sites, interpreter = _described(root)
        parts = {"python": version}
        parts["interpreter"] = "missing" if interpreter is None else memo.file_hash(interpreter)
        for name, version, files in distributions(sites):
            if name.startswith("pth:"):
                parts[name] = version
                continue
            parts[f"dist:{name}"] = version
            if files:
                parts[f"files:{name}"] = files
        parts.update(scripts_fingerprint(root))
        memo.fingerprints[root] = parts
    return dict(memo.fingerprints[root])


def _described(root: Path) -> tuple[str, list[str], Path | None]:
    """An environment's version, site directories and interpreter, remembered (in the
    process and in the cache's file) by the identity of its root, its `lib` and its
    `pyvenv.cfg`: a new `lib/pythonX.Y` or an edited `pyvenv.cfg` changes them."""
    identity = tuple(_stamp(path) for path in (root, root / "lib", root / "pyvenv.cfg"))
    key = f"described\0{root}\0{identity}"
    found = REMEMBERED.recall(key)
    if found is not None:
        version, sites, interpreter = json.loads(found)
        return version, sites, None if interpreter is None else Path(interpreter)
    described = (python_version(root), site_directories(root), interpreter_of(root))
    if all(stamp[2] for stamp in identity if stamp[0]):
        shown = described[2] and str(described[2])
        REMEMBERED.keep(key, json.dumps([described[0], described[1], shown]))
    return described


def _stamp(path: Path) -> tuple[int, int, bool]:
    """(inode, modification time, settled) of a path; zeros when there is none."""
    try:
        info = path.stat()
    except OSError:
        return (0, 0, True)
    settled = time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLED_NS
    return (info.st_ino, info.st_mtime_ns, settled)


def interpreter_of(root: Path) -> Path | None:
    """The interpreter binary of the environment at `root` (links resolved), if any."""
    for name in ("python3", "python"):
        candidate = root / "bin" / name
        if candidate.exists():
            return candidate.resolve()
    if root == Path(sys.prefix):
        return Path(sys.executable).resolve()
    return None


def python_version(root: Path) -> str:
    """ "3.11.7 (system site-packages: false)" for a virtualenv, "3.11.7" for the one
    running workflow, "X.Y" from its `lib/pythonX.Y` for another (its interpreter's
    content tells builds apart), else "unknown"."""
    values = pyvenv_values(root)
    version = values.get("version_info") or values.get("version")
    if version:
        return f"{version} (system site-packages: {values.get('include-system-site-packages')})"
    if root == Path(sys.prefix):
        return ".".join(str(part) for part in sys.version_info[:3])
    libs = sorted(p.name for p in (root / "lib").glob("python[0-9]*") if p.is_dir())
    return libs[-1].removeprefix("python") if libs else "unknown"


def pyvenv_values(root: Path) -> dict[str, str]:
    """The `key = value` lines of the environment's `pyvenv.cfg` (none: not a venv)."""
    values: dict[str, str] = {}
    try:
        text = (root / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def site_directories(root: Path) -> list[str]:
    """Where the environment's distributions are installed: its site-packages (and the
    Debian layout's dist-packages, and `/usr/local` beside `/usr`), the base
    environment's too when a virtualenv includes the system site-packages, and the
    user's site-packages for an interpreter that is not a virtualenv."""
    if root == Path(sys.prefix) and sys.prefix != sys.base_prefix:
        paths = sysconfig.get_paths()
        found = {paths["purelib"], paths["platlib"]}
    else:
        found = {str(p) for p in _site_globs(root)}
    values = pyvenv_values(root)
    if values.get("include-system-site-packages", "").lower() == "true" and values.get("home"):
        found |= {str(p) for p in _site_globs(Path(values["home"]).parent)}
    if not values:
        home = Path(os.environ.get("PYTHONUSERBASE") or Path.home() / ".local")
        found |= {str(p) for p in home.glob("lib/python3*/site-packages")}
    return sorted(p for p in found if Path(p).is_dir())


def _site_globs(root: Path) -> list[Path]:
    patterns = ("lib*/python3*/site-packages", "lib*/python3*/dist-packages")
    found = [p for pattern in patterns for p in root.glob(pattern)]
    found += [root / "lib" / "python3" / "dist-packages"]
    if root == Path("/usr"):
        found += list(Path("/usr/local").glob("lib/python3*/dist-packages"))
    return found


def distributions(sites: list[str]) -> list[tuple[str, str, str]]:
    """(normalized name, version, files digest) of every distribution in `sites`, sorted;
    a `.pth` file as ("pth:NAME", "present", "").

    A `.dist-info` directory's name is "{name}-{version}" (the installed-distribution
    specification), so most are named from the listing alone; others (`.egg-info`) from
    the `Name:`/`Version:` lines of their metadata.
    """
    found: set[tuple[str, str, str]] = set()
    for site in sites:
        found.update(_site(site))
    return sorted(found)


def _site(site: str) -> list[tuple[str, str, str]]:
    """One site directory's distributions, remembered (in the process and in the cache's
    file) by the directory's identity: installing, removing or reinstalling a
    distribution (pip replaces its metadata directory) changes the directory's times."""
    try:
        info = os.stat(site)  # noqa: PTH116 - hot path: no Path objects
    except OSError:
        return []
    key = f"site\0{site}\0{info.st_ino}:{info.st_mtime_ns}:{info.st_ctime_ns}"
    found = REMEMBERED.recall(key)
    if found is not None:
        return [(name, version, files) for name, version, files in json.loads(found)]
    listed: list[tuple[str, str, str]] = []
    for entry in os.scandir(site):
        if entry.name.endswith(".pth"):
            listed.append((f"pth:{entry.name}", "present", ""))
        elif entry.name.endswith((".dist-info", ".egg-info")):
            dist = _distribution(Path(entry.path))
            listed += [dist] if dist is not None else []
    if time.time_ns() - max(info.st_mtime_ns, info.st_ctime_ns) > SETTLED_NS:
        REMEMBERED.keep(key, json.dumps(listed))
    return listed


def _distribution(directory: Path) -> tuple[str, str, str] | None:
    """(normalized name, version, digest of the installed files' hashes) of one metadata
    directory, or None when it names no distribution."""
    base, _, suffix = directory.name.rpartition(".")
    name, sep, version = base.partition("-")
    if not (sep and name and version and "-" not in version and suffix == "dist-info"):
        headers = _headers(directory)
        name, version = headers.get("name", ""), headers.get("version", "")
    if not name:
        return None
    return normalize(name), version, _record_digest(directory)


def _headers(directory: Path) -> dict[str, str]:
    for file_name in ("METADATA", "PKG-INFO"):
        try:
            text = (directory / file_name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        headers: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                break
            key, sep, value = line.partition(":")
            if sep and key.lower() in ("name", "version"):
                headers.setdefault(key.lower(), value.strip())
        return headers
    if directory.is_file():  # an .egg-info file (distutils) is the metadata itself
        return _headers_of_file(directory)
    return {}


def _headers_of_file(path: Path) -> dict[str, str]:
    headers: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return headers
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version"):
            headers.setdefault(key.lower(), value.strip())
    return headers


def _record_digest(directory: Path) -> str:
    """SHA-256 (16 hex digits) of the RECORD's "path,hash" lines that say what the
    distribution installed, wherever and however: generated scripts, bytecode and the
    installer's own notes (which name the environment's path) left out."""
    record = directory / "RECORD"
    if not record.is_file():
        record = directory / "installed-files.txt"
    try:
        info = record.stat()
    except OSError:
        return ""
    found = REMEMBERED.get(record, info)
    if found is None:
        kept = _LEFT_OUT.sub("", record.read_text(encoding="utf-8", errors="replace"))
        if "editable" in kept or "direct_url" in kept:
            kept = "\n".join(line for line in kept.splitlines() if not _EDITABLE.search(line))
        found = hashlib.sha256(kept.encode("utf-8")).hexdigest()[:16]
        REMEMBERED.put(record, info, found)
    return found


def normalize(name: str) -> str:
    """A distribution name as packaging normalizes it (PEP 503): `Foo_Bar.x` -> `foo-bar-x`."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))
