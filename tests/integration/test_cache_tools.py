"""The tool in the key: a distribution upgraded, downgraded or rebuilt in place, another
interpreter, a tool behind a wrapper, every virtualenv on the PATH.

Real virtual environments of this machine's interpreters, with a tiny real package
installed by pip at two versions from wheels the test builds (no network). The stage
runs a console script, `checker`, found on PATH in that environment, or a wrapper that
may start it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.integration.cache_repo import keys, make_repo, stages
from tests.integration.venvs import build_wheel, install, interpreters, venv

pytestmark = pytest.mark.integration

ENV = {"PATH": os.environ.get("PATH", ""), "PKG_MODE": "fast", "OTHER": "1"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "project")


VERSIONS = ("1.0", "2.0")


@pytest.fixture(scope="session")
def tiny_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of a tiny package as real wheels, built once per session."""
    directory = tmp_path_factory.mktemp("wheels")
    for version in VERSIONS:
        build_wheel(directory, version)
    return directory


def _on_path(venv_dir: Path) -> dict[str, str]:
    return {**ENV, "PATH": f"{venv_dir / 'bin'}{os.pathsep}{ENV['PATH']}"}


def test_a_tool_upgraded_or_downgraded_misses(
    repo: Path, tmp_path: Path, tiny_wheels: Path
) -> None:
    tools = venv(tmp_path / "venv", interpreters()[0])
    stage_list = stages(repo, python="checker")
    environ = _on_path(tools)
    install(tools, tiny_wheels, "1.0")
    old = keys(stage_list, environ)
    assert keys(stage_list, environ) == old  # nothing changed: a hit
    install(tools, tiny_wheels, "2.0")
    upgraded = keys(stage_list, environ)
    assert upgraded["narrow"] != old["narrow"] and upgraded["wide"] != old["wide"]
    install(tools, tiny_wheels, "1.0")
    assert keys(stage_list, environ) == old  # downgraded: the old environment's key again
    install(tools, tiny_wheels, "2.0")
    assert keys(stage_list, environ) == upgraded


def test_a_reinstall_of_the_same_version_with_other_files_misses(
    repo: Path, tmp_path: Path, tiny_wheels: Path
) -> None:
    tools = venv(tmp_path / "venv", interpreters()[0])
    stage_list = stages(repo, python="checker")
    install(tools, tiny_wheels, "1.0")
    before = keys(stage_list, _on_path(tools))
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    build_wheel(rebuilt, "1.0", "FIXED = True\n")  # 1.0 again, other content
    install(tools, rebuilt, "1.0", reinstall=True)
    assert keys(stage_list, _on_path(tools)) != before


@pytest.mark.parametrize(
    "wrapper",
    [("sh", "-c", "checker --strict"), ("make", "lint"), ("bash", "scripts/lint.sh")],
)
def test_a_tool_behind_a_wrapper_upgraded_misses(
    repo: Path, tmp_path: Path, tiny_wheels: Path, wrapper: tuple[str, ...]
) -> None:
    tools = venv(tmp_path / "venv", interpreters()[0])
    install(tools, tiny_wheels, "1.0")
    stage_list = [
        replace(s, config=replace(s.config, run=wrapper)) for s in stages(repo, python="sh")
    ]
    before = keys(stage_list, _on_path(tools))
    install(tools, tiny_wheels, "2.0")
    after = keys(stage_list, _on_path(tools))
    assert after["narrow"] != before["narrow"] and after["wide"] != before["wide"]


def test_every_virtualenv_on_the_path_is_keyed(
    repo: Path, tmp_path: Path, tiny_wheels: Path
) -> None:
    first = venv(tmp_path / "first", interpreters()[0])
    second = venv(tmp_path / "second", interpreters()[0])
    install(second, tiny_wheels, "1.0")
    both = {**ENV, "PATH": os.pathsep.join([str(first / "bin"), str(second / "bin"), ENV["PATH"]])}
    stage_list = stages(repo, python="checker")  # found in the first; the second is behind
    before = keys(stage_list, both)
    install(second, tiny_wheels, "2.0")
    assert keys(stage_list, both) != before


def _venv_of_another_interpreter(path: Path, found: list[Path]) -> Path:
    """A venv whose interpreter is not `found[0]`: another Python of this machine when one
    can be found, else a rebuilt copy of the same one (a byte appended, which the ELF
    loader ignores: a patched interpreter of the same version, as a distribution's
    security update ships it)."""
    if len(found) >= 2:
        return venv(path, found[1])
    made = venv(path, found[0], copies=True)
    for copy in (made / "bin").glob("python*"):
        with copy.open("ab") as binary:
            binary.write(b"\0")
    return made


def test_the_interpreter_changed_misses(repo: Path, tmp_path: Path) -> None:
    found = interpreters()
    stage_list = stages(repo, python="checker")
    first = keys(stage_list, _on_path(venv(tmp_path / "one", found[0])))
    other = _venv_of_another_interpreter(tmp_path / "two", found)
    second = keys(stage_list, _on_path(other))
    same = keys(stage_list, _on_path(venv(tmp_path / "three", found[0])))
    assert second["narrow"] != first["narrow"] and second["wide"] != first["wide"]
    assert same == first  # another environment of the same Python and packages: a hit


def test_a_virtualenv_in_the_repository_that_a_script_activates_is_keyed(
    repo: Path, tiny_wheels: Path
) -> None:
    inside = venv(repo / ".venv", interpreters()[0])  # ignored, not on the PATH
    (repo / ".gitignore").write_text(".venv/\n" + (repo / ".gitignore").read_text())
    install(inside, tiny_wheels, "1.0")
    activate = ("sh", "-c", ". .venv/bin/activate && checker")
    stage_list = [
        replace(s, config=replace(s.config, run=activate)) for s in stages(repo, python="sh")
    ]
    before = keys(stage_list, ENV)
    install(inside, tiny_wheels, "2.0")
    after = keys(stage_list, ENV)
    assert after["narrow"] != before["narrow"] and after["wide"] != before["wide"]


def test_a_program_replaced_in_place_behind_a_wrapper_misses(repo: Path, tmp_path: Path) -> None:
    tools = venv(tmp_path / "venv", interpreters()[0])
    native = tools / "bin" / "formatter"
    native.write_bytes(b"\x7fELF formatter 1.0")
    native.chmod(0o755)
    wrapped = ("sh", "-c", "formatter --check src")
    stage_list = [
        replace(s, config=replace(s.config, run=wrapped)) for s in stages(repo, python="sh")
    ]
    before = keys(stage_list, _on_path(tools))
    native.write_bytes(b"\x7fELF formatter 1.1")  # copied over, no installer involved
    after = keys(stage_list, _on_path(tools))
    assert after["narrow"] != before["narrow"] and after["wide"] != before["wide"]
