"""The tool fingerprint: distributions read from the listing agree with their metadata."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from orchestrator.cache.fingerprint import (
    FingerprintMemo,
    _read_distributions,
    _site_directories,
    python_environment,
    tool_fingerprint,
)


def _normalized(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def test_the_listing_names_the_same_distributions_as_their_metadata() -> None:
    sites = _site_directories(Path(sys.prefix))
    expected = {
        (_normalized(dist.metadata["Name"]), dist.version)
        for dist in metadata.distributions(path=sites)
    }
    assert set(_read_distributions(sites)) == expected
    assert ("pytest", metadata.version("pytest")) in expected


def test_an_egg_info_directory_is_read_from_its_metadata(tmp_path: Path) -> None:
    egg = tmp_path / "Old_Package.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old.Package\nVersion: 0.9\n")
    modern = tmp_path / "new_pkg-2.0.dist-info"
    modern.mkdir()
    assert _read_distributions([str(tmp_path)]) == [("new-pkg", "2.0"), ("old-package", "0.9")]


def test_a_program_outside_python_is_known_by_its_content(tmp_path: Path) -> None:
    program = tmp_path / "tool"
    program.write_bytes(b"\x7fELF one")
    memo = FingerprintMemo()
    first = tool_fingerprint(program, "tool", memo)
    assert python_environment(program) is None and "dist:pytest" not in first
    program.write_bytes(b"\x7fELF two")
    assert tool_fingerprint(program, "tool", FingerprintMemo()) != first
    assert tool_fingerprint(None, "tool", memo) == {"tool": "tool", "content": "not found"}


def test_the_running_interpreter_carries_its_distributions() -> None:
    parts = tool_fingerprint(Path(sys.executable), "python", FingerprintMemo())
    assert parts["dist:pytest"] == metadata.version("pytest")
    assert parts["python"].startswith(".".join(str(v) for v in sys.version_info[:2]))
