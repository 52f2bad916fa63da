"""Real virtual environments and a tiny real package for the cache tests (no network).

`venv` makes a virtualenv of one of this machine's interpreters; `build_wheel` writes a
pure-Python wheel (PEP 427, RECORD hashes and all) of `tinypkg`; `install` has pip put a
version of it into a virtualenv, as a user's `pip install tinypkg==X` would.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

PACKAGE = "tinypkg"


def interpreters() -> list[Path]:
    """Distinct Python interpreters of this machine (the base one first)."""
    candidates = [getattr(sys, "_base_executable", sys.executable), "/usr/bin/python3"]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in range(9, 15)]
    found: dict[Path, Path] = {}
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            found.setdefault(Path(candidate).resolve(), Path(candidate))
    return list(found.values())


def build_wheel(directory: Path, version: str, body: str = "") -> Path:
    """A wheel of PACKAGE at `version` whose `__init__.py` holds `body`."""
    info = f"{PACKAGE}-{version}.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": f'__version__ = "{version}"\n{body}',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = [
        f"{name},sha256={_record_hash(text.encode())},{len(text.encode())}"
        for name, text in files.items()
    ]
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    wheel = directory / f"{PACKAGE}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def venv(path: Path, python: Path, *, copies: bool = False) -> Path:
    """A virtual environment of `python` with a console script `checker` in it."""
    how = ["--copies"] if copies else []
    subprocess.run(
        [str(python), "-m", "venv", "--without-pip", *how, str(path)], check=True, timeout=120
    )
    script = path / "bin" / "checker"
    script.write_text(f"#!{path / 'bin' / 'python'}\nimport sys\nsys.exit(0)\n")
    script.chmod(0o755)
    return path


def install(env: Path, wheels: Path, version: str, *, reinstall: bool = False) -> None:
    """`pip install tinypkg==VERSION` into the venv (pip runs it for that interpreter)."""
    again = ["--force-reinstall"] if reinstall else []
    subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q"),
            *("--no-deps", "--no-index", "--find-links", str(wheels), *again),
            f"{PACKAGE}=={version}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
