"""The tool and its environments: distributions read from the listing agree with their
metadata, a reinstall in place with other files changes the key, paths never count."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from orchestrator.cache.environments import (
    EnvironmentMemo,
    distributions,
    environment_fingerprint,
    site_directories,
)
from orchestrator.cache.fingerprint import PROGRAM, PYTHON_TOOL, tool_fingerprint
from orchestrator.cache.pathenvs import environment_of
from orchestrator.cache.scripts import scripts_fingerprint


def _normalized(name: str) -> str:
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def test_the_listing_names_the_same_distributions_as_their_metadata() -> None:
    sites = site_directories(Path(sys.prefix))
    expected = {
        (_normalized(dist.metadata["Name"]), dist.version)
        for dist in metadata.distributions(path=sites)
    }
    found = {(name, version) for name, version, _ in distributions(sites)}
    assert {f for f in found if not f[0].startswith("pth:")} == expected
    assert ("pytest", metadata.version("pytest")) in expected


def _dist(site: Path, name: str, version: str, files: dict[str, str]) -> Path:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    record = [f"{path},sha256={digest},1" for path, digest in files.items()]
    record += [f"{name}-{version}.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")
    return info


def test_an_egg_info_directory_is_read_from_its_metadata(tmp_path: Path) -> None:
    egg = tmp_path / "Old_Package.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: Old.Package\nVersion: 0.9\n")
    (tmp_path / "legacy.egg-info").write_text("Metadata-Version: 1.0\nName: legacy\nVersion: 3\n")
    _dist(tmp_path, "new_pkg", "2.0", {"new_pkg/__init__.py": "aaa"})
    named = [(name, version) for name, version, _ in distributions([str(tmp_path)])]
    assert named == [("legacy", "3"), ("new-pkg", "2.0"), ("old-package", "0.9")]


def test_a_reinstall_in_place_with_other_files_changes_the_digest(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = _dist(site, "tool", "1.0", {"tool/core.py": "aaa", "../../../bin/tool": "x"})
    before = distributions([str(site)])
    # The same version with another core.py (a rebuilt wheel, an in-place upgrade).
    (info / "RECORD").unlink()
    info.rmdir()
    _dist(site, "tool", "1.0", {"tool/core.py": "bbb", "../../../bin/tool": "x"})
    after = distributions([str(site)])
    assert before[0][:2] == after[0][:2] == ("tool", "1.0")
    assert before[0][2] != after[0][2]


def test_generated_scripts_and_install_paths_leave_the_digest_alone(tmp_path: Path) -> None:
    one = _dist(tmp_path / "one", "tool", "1.0", {"tool/a.py": "aaa", "../../../bin/tool": "1"})
    two = _dist(tmp_path / "two", "tool", "1.0", {"tool/a.py": "aaa", "../../../bin/tool": "2"})
    (one / "direct_url.json").write_text('{"url": "file:///one"}')
    (two / "direct_url.json").write_text('{"url": "file:///two"}')
    assert distributions([str(one.parent)]) == distributions([str(two.parent)])


def test_a_program_outside_python_is_known_by_its_content(tmp_path: Path) -> None:
    program = tmp_path / "tool"
    program.write_bytes(b"\x7fELF one")
    memo = EnvironmentMemo()
    first = tool_fingerprint(program, "tool", memo)
    assert environment_of(program) is None and first.environment is None
    assert first.parts["kind"] == PROGRAM
    program.write_bytes(b"\x7fELF two")
    assert tool_fingerprint(program, "tool", EnvironmentMemo()).parts != first.parts
    assert tool_fingerprint(None, "tool", memo).parts == {"tool": "tool", "kind": "not found"}


def test_the_running_interpreter_carries_its_distributions() -> None:
    tool = tool_fingerprint(Path(sys.executable), "python", EnvironmentMemo())
    assert tool.parts["kind"] == PYTHON_TOOL and tool.environment is not None
    parts = environment_fingerprint(tool.environment, EnvironmentMemo())
    assert parts["dist:pytest"] == metadata.version("pytest")
    assert parts["files:pytest"]
    assert parts["python"].startswith(".".join(str(v) for v in sys.version_info[:2]))


def test_programs_of_an_environment_are_known_by_what_they_run(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        (root / "bin").mkdir(parents=True)
        (root / "bin" / "tool").write_text(f"#!{root}/bin/python\nimport tool\ntool.main()\n")
        (root / "bin" / "native").write_bytes(b"\x7fELF build 1")
        (root / "bin" / "activate").write_text(f"VIRTUAL_ENV={root}\n")
    assert scripts_fingerprint(one) == scripts_fingerprint(two)  # paths never count
    assert set(scripts_fingerprint(one)) == {"bin:tool", "bin:native"}
    (two / "bin" / "native").write_bytes(b"\x7fELF build 2")  # replaced in place, by hand
    assert scripts_fingerprint(one) != scripts_fingerprint(two)
