"""The tool in the key: a distribution upgraded or downgraded, another interpreter.

Real virtual environments of this machine's interpreters, with a tiny real package
installed by pip at two versions from wheels the test builds (no network). The stage
runs a console script, `checker`, found on PATH in that environment.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.integration.cache_repo import keys, make_repo, stages

pytestmark = pytest.mark.integration

ENV = {"PATH": os.environ.get("PATH", ""), "PKG_MODE": "fast", "OTHER": "1"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


def _interpreters() -> list[Path]:
    """Distinct Python interpreters of this machine (the base one first)."""
    candidates = [getattr(sys, "_base_executable", sys.executable), "/usr/bin/python3"]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in range(9, 15)]
    found: dict[Path, Path] = {}
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            found.setdefault(Path(candidate).resolve(), Path(candidate))
    return list(found.values())


PACKAGE = "tinypkg"
VERSIONS = ("1.0", "2.0")


@pytest.fixture(scope="session")
def tiny_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of a tiny package as real wheels, built once per session."""
    directory = tmp_path_factory.mktemp("wheels")
    for version in VERSIONS:
        _build_wheel(directory, version)
    return directory


def _build_wheel(directory: Path, version: str) -> Path:
    """A pure-Python wheel (PEP 427) of PACKAGE at `version`, RECORD hashes and all."""
    info = f"{PACKAGE}-{version}.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": f'__version__ = "{version}"\n',
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


def _venv(path: Path, python: Path, *, copies: bool = False) -> Path:
    """A virtual environment of `python` with a console script `checker` in it."""
    how = ["--copies"] if copies else []
    subprocess.run(
        [str(python), "-m", "venv", "--without-pip", *how, str(path)], check=True, timeout=120
    )
    script = path / "bin" / "checker"
    script.write_text(f"#!{path / 'bin' / 'python'}\nimport sys\nsys.exit(0)\n")
    script.chmod(0o755)
    return path


def _on_path(venv: Path) -> dict[str, str]:
    return {**ENV, "PATH": f"{venv / 'bin'}{os.pathsep}{ENV['PATH']}"}


def _install(venv: Path, wheels: Path, version: str) -> None:
    """`pip install tinypkg==VERSION` into the venv (pip runs it for that interpreter)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--find-links",
            str(wheels),
            f"{PACKAGE}=={version}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_a_tool_upgraded_or_downgraded_misses(
    repo: Path, tmp_path: Path, tiny_wheels: Path
) -> None:
    venv = _venv(tmp_path / "venv", _interpreters()[0])
    stage_list = stages(repo, python="checker")
    environ = _on_path(venv)
    _install(venv, tiny_wheels, "1.0")
    old = keys(stage_list, environ)
    assert keys(stage_list, environ) == old  # nothing changed: a hit
    _install(venv, tiny_wheels, "2.0")
    upgraded = keys(stage_list, environ)
    assert upgraded["narrow"] != old["narrow"] and upgraded["wide"] != old["wide"]
    _install(venv, tiny_wheels, "1.0")
    assert keys(stage_list, environ) == old  # downgraded: the old environment's key again
    _install(venv, tiny_wheels, "2.0")
    assert keys(stage_list, environ) == upgraded


def _venv_of_another_interpreter(path: Path, interpreters: list[Path]) -> Path:
    """A venv whose interpreter is not `interpreters[0]`: another Python of this machine
    when one can be found, else a rebuilt copy of the same one (a byte appended, which the
    ELF loader ignores: a patched interpreter of the same version, as a distribution's
    security update ships it)."""
    if len(interpreters) >= 2:
        return _venv(path, interpreters[1])
    venv = _venv(path, interpreters[0], copies=True)
    for copy in (venv / "bin").glob("python*"):
        with copy.open("ab") as binary:
            binary.write(b"\0")
    return venv


def test_the_interpreter_changed_misses(repo: Path, tmp_path: Path) -> None:
    interpreters = _interpreters()
    stage_list = stages(repo, python="checker")
    first = keys(stage_list, _on_path(_venv(tmp_path / "one", interpreters[0])))
    other = _venv_of_another_interpreter(tmp_path / "two", interpreters)
    second = keys(stage_list, _on_path(other))
    same = keys(stage_list, _on_path(_venv(tmp_path / "three", interpreters[0])))
    assert second["narrow"] != first["narrow"] and second["wide"] != first["wide"]
    assert same == first  # another environment of the same Python and packages: a hit
