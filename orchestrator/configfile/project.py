"""What a project already says about its tools: pytest's and mypy's settings, and where
ruff, bandit and coverage are configured.

Read as each tool reads it, so that the built-in stages (`defaults.py`) and `workflow
init` follow the project instead of guessing: pytest's `testpaths`, `python_files` and
`addopts` from the first of pytest.ini, .pytest.ini, pyproject.toml
(`[tool.pytest.ini_options]`, or pytest 9's `[tool.pytest]`), tox.ini `[pytest]`,
setup.cfg `[tool:pytest]`; mypy's `files` and `python_version` from the first of mypy.ini,
.mypy.ini, pyproject.toml `[tool.mypy]`, setup.cfg `[mypy]`. A file that cannot be read
or parsed counts as absent here: the tool itself will say what is wrong with it.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PYTHON_FILES = ("test_*.py", "*_test.py")


@dataclass(frozen=True)
class PytestSettings:
    """pytest's configuration as pytest finds it at the project's root."""

    source: str | None = None  # "pyproject.toml [tool.pytest.ini_options]", or None
    testpaths: tuple[str, ...] = ()
    python_files: tuple[str, ...] = DEFAULT_PYTHON_FILES
    addopts: tuple[str, ...] = ()

    @property
    def reads_text_files(self) -> bool:
        """Whether pytest collects doctests from text files (`--doctest-glob`), which
        [detect].docs may match: then documentation is among its inputs."""
        return any(arg.startswith("--doctest-glob") for arg in self.addopts)

    @property
    def reports_failures(self) -> bool:
        """Whether `addopts` already asks for failed and errored tests in the short
        summary (`-r` with f and E, or a or A): then workflow adds no `-rfE`, which would
        replace the project's choice (pytest keeps the last `-r`)."""
        chars = _report_chars(self.addopts)
        return chars is not None and (bool(set(chars) & {"a", "A"}) or {"f", "E"} <= set(chars))


@dataclass(frozen=True)
class MypySettings:
    """mypy's configuration, or `source` None when the project has none."""

    source: str | None = None  # "setup.cfg [mypy]", ...
    files: tuple[str, ...] = ()
    python_version: str | None = None


@dataclass(frozen=True)
class ProjectTools:
    """The project's tool settings, read once for the built-in stages and `init`."""

    pytest: PytestSettings
    mypy: MypySettings
    ruff: str | None  # where ruff is configured (ruff.toml, .ruff.toml, [tool.ruff])
    ruff_fixes: bool  # that configuration sets `fix = true`
    bandit: str | None  # "pyproject.toml" when [tool.bandit] is there (bandit -c reads it)
    coverage: str | None  # where coverage.py is configured
    pyproject: Mapping[str, Any]  # pyproject.toml's data ({} without one)


def read_project(root: Path) -> ProjectTools:
    """The tool settings of the project at `root`."""
    pyproject = _toml(root / "pyproject.toml")
    tool = _table(pyproject, "tool")
    ruff_file = next((n for n in ("ruff.toml", ".ruff.toml") if (root / n).is_file()), None)
    ruff = _toml(root / ruff_file) if ruff_file else _table(tool, "ruff")
    if ruff_file is None and "ruff" not in tool:
        ruff_source = None
    else:
        ruff_source = ruff_file or "pyproject.toml [tool.ruff]"
    coverage = (
        ".coveragerc"
        if (root / ".coveragerc").is_file()
        else "pyproject.toml [tool.coverage]"
        if "coverage" in tool
        else None
    )
    return ProjectTools(
        pytest=read_pytest(root, pyproject),
        mypy=read_mypy(root, pyproject),
        ruff=ruff_source,
        ruff_fixes=ruff.get("fix") is True,
        bandit="pyproject.toml" if "bandit" in tool else None,
        coverage=coverage,
        pyproject=pyproject,
    )


def read_pytest(root: Path, pyproject: Mapping[str, Any]) -> PytestSettings:
    """pytest's settings from the first file pytest itself would take."""
    for name in ("pytest.ini", ".pytest.ini"):
        if (root / name).is_file():
            section = _ini(root / name, "pytest")
            return _pytest_from_ini(section or {}, name)
    tool = _table(pyproject, "tool")
    pytest_table = _table(tool, "pytest")
    if "ini_options" in pytest_table:
        options = _table(pytest_table, "ini_options")
        return _pytest_from_toml(options, "pyproject.toml [tool.pytest.ini_options]")
    if pytest_table:
        return _pytest_from_toml(pytest_table, "pyproject.toml [tool.pytest]")
    for name, section_name in (("tox.ini", "pytest"), ("setup.cfg", "tool:pytest")):
        section = _ini(root / name, section_name)
        if section is not None:
            return _pytest_from_ini(section, f"{name} [{section_name}]")
    return PytestSettings()


def read_mypy(root: Path, pyproject: Mapping[str, Any]) -> MypySettings:
    """mypy's settings from the first file mypy itself would take."""
    for name in ("mypy.ini", ".mypy.ini"):
        section = _ini(root / name, "mypy")
        if section is not None:
            return _mypy_from_ini(section, f"{name} [mypy]")
    tool = _table(pyproject, "tool")
    if "mypy" in tool:
        table = _table(tool, "mypy")
        files = table.get("files", ())
        version = table.get("python_version")
        return MypySettings(
            source="pyproject.toml [tool.mypy]",
            files=_words(files, ","),
            python_version=None if version is None else str(version),
        )
    section = _ini(root / "setup.cfg", "mypy")
    if section is not None:
        return _mypy_from_ini(section, "setup.cfg [mypy]")
    return MypySettings()


def _pytest_from_ini(section: Mapping[str, str], source: str) -> PytestSettings:
    files = _words(section.get("python_files", ""), None)
    return PytestSettings(
        source=source,
        testpaths=_words(section.get("testpaths", ""), None),
        python_files=files or DEFAULT_PYTHON_FILES,
        addopts=_argv(section.get("addopts", "")),
    )


def _pytest_from_toml(table: Mapping[str, Any], source: str) -> PytestSettings:
    files = _words(table.get("python_files", ()), None)
    addopts = table.get("addopts", ())
    return PytestSettings(
        source=source,
        testpaths=_words(table.get("testpaths", ()), None),
        python_files=files or DEFAULT_PYTHON_FILES,
        addopts=_argv(addopts) if isinstance(addopts, str) else _strings(addopts),
    )


def _mypy_from_ini(section: Mapping[str, str], source: str) -> MypySettings:
    return MypySettings(
        source=source,
        files=_words(section.get("files", ""), ","),
        python_version=section.get("python_version") or None,
    )


def stage_python() -> tuple[int, int]:
    """The Python version the stages run: an activated virtualenv's (its pyvenv.cfg),
    else the one running workflow."""
    virtual = os.environ.get("VIRTUAL_ENV")
    if virtual:
        section = _ini_text(Path(virtual) / "pyvenv.cfg")
        found = (section or {}).get("version_info") or (section or {}).get("version")
        parts = (found or "").split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return int(parts[0]), int(parts[1])
    return sys.version_info[0], sys.version_info[1]


# Where a project runs its tools: its task runners, hooks and CI workflows.
TOOL_RUNNERS = (
    ".pre-commit-config.yaml",
    "tox.ini",
    "noxfile.py",
    "Justfile",
    "justfile",
    "Makefile",
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
)


def runs_tool(root: Path, name: str) -> str | None:
    """The first file among `TOOL_RUNNERS` that names `name` as a word (a command, a
    hook id, a session), or None: evidence that the project runs the tool, and where."""
    word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")
    for pattern in TOOL_RUNNERS:
        for path in sorted(root.glob(pattern)):
            try:
                text = path.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
            if word.search(text):
                return path.relative_to(root).as_posix()
    return None


def requirement_markers(root: Path, pyproject: Mapping[str, Any], name: str) -> list[str]:
    """The environment markers of every place the project asks for distribution `name`
    (pyproject.toml's dependency groups and extras, requirements*.txt at the root); ""
    for a requirement without one. An empty list: the project never names it."""
    lines: list[str] = []
    groups = _table(pyproject, "dependency-groups")
    extras = _table(_table(pyproject, "project"), "optional-dependencies")
    for table in (groups, extras):
        for items in table.values():
            lines += (
                [item for item in items if isinstance(item, str)] if isinstance(items, list) else []
            )
    for path in sorted(root.glob("requirements*.txt")):
        try:
            lines += path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
    markers = []
    for line in lines:
        requirement, _, marker = line.partition(";")
        if _distribution(requirement) == _normal(name):
            markers.append(marker.strip())
    return markers


def _distribution(requirement: str) -> str:
    text = requirement.split("#", 1)[0].strip()
    end = next((i for i, c in enumerate(text) if not (c.isalnum() or c in "-_.")), len(text))
    return _normal(text[:end])


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _report_chars(addopts: tuple[str, ...]) -> str | None:
    chars = None
    for index, arg in enumerate(addopts):
        if arg in ("-r", "--report-chars") and index + 1 < len(addopts):
            chars = addopts[index + 1]
        elif arg.startswith("--report-chars="):
            chars = arg.partition("=")[2]
        elif arg.startswith("-r") and len(arg) > 2:
            chars = arg[2:]
    return chars


def _words(value: Any, separator: str | None) -> tuple[str, ...]:
    if isinstance(value, str):
        parts = value.replace("\n", separator or " ").split(separator)
        return tuple(part.strip() for part in parts if part.strip())
    return _strings(value)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if isinstance(item, str) and item.strip())
    return ()


def _argv(text: str) -> tuple[str, ...]:
    try:
        return tuple(shlex.split(text))
    except ValueError:
        return tuple(text.split())


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _ini(path: Path, section: str) -> dict[str, str] | None:
    """One section of an INI file (pytest.ini, tox.ini, setup.cfg, mypy.ini), or None."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return dict(parser[section]) if parser.has_section(section) else None


def _ini_text(path: Path) -> dict[str, str] | None:
    """A sectionless `key = value` file (pyvenv.cfg)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    pairs = (line.partition("=") for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, _, value in pairs}
