"""The commands a project already runs for its checks, for `workflow init`.

Read, never run: `.pre-commit-config.yaml`'s local hooks (`repo: local`), tox.ini's
environments (configparser), noxfile.py's sessions (parsed with `ast`, never imported:
importing it would run the project's code), and the recipes of a Justfile or Makefile.
Each becomes a `Recipe` whose name says its role (lint, typecheck, test, security, a
format check) and whose commands are argv lists, or the reason it cannot be one (a
placeholder workflow cannot fill, a shell construct).
"""

from __future__ import annotations

import ast
import configparser
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROLES = {
    "lint": ("lint", "linting", "ruff", "flake8", "pylint", "style", "pycodestyle", "pyflakes"),
    "typecheck": ("typecheck", "typechecking", "types", "typing", "mypy", "pyright", "type"),
    "test": ("test", "tests", "unit", "unittest", "unittests", "pytest", "testenv", "py"),
    "integration": ("integration", "integration-tests", "integrationtests", "e2e"),
    "security": ("security", "bandit", "audit", "pip-audit", "safety", "sec"),
    "format": ("format", "fmt", "formatting", "black", "isort", "ruff-format"),
}
_PYTHON_ENV = re.compile(r"^py(thon)?\d*(\.\d+)?$")  # tox's py, py311, py3.12 environments


@dataclass(frozen=True)
class Recipe:
    """One check the project defines: where (`source`, for comments), its `name`, the
    `role` its name says (None: not a check workflow knows), and its `commands` (argv
    lists, run one after another) or `problem` (why it cannot be a stage as it is)."""

    source: str
    name: str
    role: str | None
    commands: tuple[tuple[str, ...], ...] = ()
    problem: str | None = None
    runner: tuple[str, ...] = ()  # `make NAME` / `just NAME`: the recipe run by its tool


def role_of(name: str) -> str | None:
    """The role a check's name says: "lint", "typecheck", "test", ..., or None. The whole
    name first ("type-check", "pip-audit"), then its words in order ("ruff-lint",
    "unit-tests")."""
    key = name.strip().lower().replace("_", "-")
    for candidate in (key, *key.split("-")):
        for role, names in ROLES.items():
            if candidate in names or candidate.replace("-", "") in names:
                return role
    return "test" if _PYTHON_ENV.match(key) else None


def find_recipes(root: Path) -> list[Recipe]:
    """Every check the project at `root` defines, in the order init prefers them."""
    return [
        *pre_commit_hooks(root / ".pre-commit-config.yaml"),
        *tox_environments(root / "tox.ini"),
        *nox_sessions(root / "noxfile.py"),
        *task_recipes(root, "Justfile", "just"),
        *task_recipes(root, "justfile", "just"),
        *task_recipes(root, "Makefile", "make"),
    ]


def pre_commit_hooks(path: Path) -> list[Recipe]:
    """The `repo: local` hooks that run in the project's environment."""
    data = _yaml(path)
    repos = data.get("repos") if isinstance(data, dict) else None
    found = []
    for repo in repos if isinstance(repos, list) else []:
        if not isinstance(repo, dict) or repo.get("repo") != "local":
            continue
        for hook in repo.get("hooks") or []:
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                found.append(_hook(hook))
    return found


def _hook(hook: dict[str, Any]) -> Recipe:
    name = str(hook["id"])
    source = f".pre-commit-config.yaml hook {name}"
    entry, args = hook.get("entry"), hook.get("args") or []
    if hook.get("language", "system") not in ("system", "python", "script", "unsupported"):
        why = "it runs in an environment pre-commit builds"
        return Recipe(source, name, role_of(name), problem=why)
    if not isinstance(entry, str) or not isinstance(args, list):
        return Recipe(source, name, role_of(name), problem="no entry")
    try:
        argv = (*shlex.split(entry), *(str(arg) for arg in args))
    except ValueError as exc:
        return Recipe(source, name, role_of(name), problem=f"its entry cannot be split: {exc}")
    if hook.get("pass_filenames", True) is not False:
        argv = (*argv, ".")  # pre-commit would pass the files; the whole tree is the check
    return Recipe(source, name, role_of(name), commands=(argv,))


def tox_environments(path: Path) -> list[Recipe]:
    """tox.ini's environments: `[testenv]` (its default commands) and `[testenv:NAME]`."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return []
    base = parser["testenv"].get("commands", "") if parser.has_section("testenv") else ""
    found = []
    for section in parser.sections():
        if section != "testenv" and not section.startswith("testenv:"):
            continue
        name = section.partition(":")[2] or "testenv"
        text = parser[section].get("commands", base if name != "testenv" else "")
        if not text.strip():
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        source = f"tox.ini [{section}]"
        if any(_FACTOR.match(line) for line in lines):
            problem = "its commands depend on tox factors"
            found.append(Recipe(source, name, role_of(name), problem=problem))
            continue
        found.append(_recipe(source, name, [_tox_line(line) for line in lines]))
    return found


_FACTOR = re.compile(r"^[\w.{},!-]+:\s")  # `tests: pytest`: run only in environments named so
_TOX_NAMES = {"envpython": "python", "toxinidir": ".", "tox_root": "."}


def _tox_line(line: str) -> str:
    """A tox command as it runs here: positional arguments left out (or given their
    default), the environment's python as `python`, the project's directory as `.`."""
    line = line.removeprefix("- ").removeprefix("-")  # tox: ignore this command's exit code
    line = re.sub(r"\{posargs(?::([^}]*))?\}", lambda m: m.group(1) or "", line)
    return re.sub(r"\{(\w+)\}", lambda m: _TOX_NAMES.get(m.group(1), m.group(0)), line).strip()


def nox_sessions(path: Path) -> list[Recipe]:
    """noxfile.py's sessions: each `session.run(...)` whose arguments are plain strings."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8-sig"), str(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and (name := _session_name(node)) is not None:
            found.append(_nox(node, name))
    return found


def _session_name(function: ast.FunctionDef) -> str | None:
    for decorator in function.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if _dotted(target) in ("nox.session", "session"):
            for keyword in call.keywords if call is not None else []:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
            return function.name
    return None


def _nox(function: ast.FunctionDef, name: str) -> Recipe:
    source = f"noxfile.py session {name}"
    commands = []
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and _dotted(node.func).endswith(".run")):
            continue
        args = [
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        ]
        plain = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(args) != len(plain) or not args:
            return Recipe(source, name, role_of(name), problem="its commands are computed")
        commands.append(tuple(args))
    if not commands:
        return Recipe(source, name, role_of(name), problem="it runs no command")
    return Recipe(source, name, role_of(name), commands=tuple(commands))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def task_recipes(root: Path, filename: str, tool: str) -> list[Recipe]:
    """A Justfile's or Makefile's recipes named like a check, with their command lines."""
    try:
        text = (root / filename).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return []
    found = []
    for name, body in _targets(text):
        if role_of(name) is None:
            continue
        lines = [line.strip().lstrip("@-").strip() for line in body if line.strip()]
        recipe = _recipe(f"{filename} recipe {name}", name, lines)
        found.append(replace(recipe, runner=(tool, name)))
    return found


_TARGET = re.compile(r"^([A-Za-z_][\w.-]*)(?:\s+[^:=]*)?:(?!=)")


def _targets(text: str) -> Iterable[tuple[str, list[str]]]:
    name: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line[:1] in (" ", "\t"):
            if name is not None and not line.strip().startswith("#"):
                body.append(line)
            continue
        if name is not None:
            yield name, body
        found = _TARGET.match(line)
        name, body = (found.group(1), []) if found and not line.startswith(".") else (None, [])
    if name is not None:
        yield name, body


def _recipe(source: str, name: str, lines: list[str]) -> Recipe:
    role = role_of(name)
    if not lines:
        return Recipe(source, name, role, problem="it runs no command")
    commands = []
    for line in lines:
        if re.search(r"\{\{|\$\(|\$\{|[{}|;<>&`]", line):
            return Recipe(source, name, role, problem=f"`{line}` needs a shell or a variable")
        try:
            commands.append(tuple(shlex.split(line)))
        except ValueError as exc:
            return Recipe(source, name, role, problem=f"`{line}` cannot be split: {exc}")
    return Recipe(source, name, role, commands=tuple(commands))


def _yaml(path: Path) -> object:
    """The YAML document at `path`, or None when there is none or it cannot be read."""
    if not path.is_file():
        return None
    # PyYAML loads only for a project with a pre-commit configuration (init only).
    import yaml  # noqa: PLC0415 - see the comment above

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
