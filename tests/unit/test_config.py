"""Configuration loading and validation: every problem at once, with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.configfile.load import load_config
from orchestrator.model.config import Lane, Strategy
from orchestrator.model.errors import ConfigError, ExitCode


def write(tmp_path: Path, text: str, name: str = "workflow.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert info.value.exit_code == ExitCode.USAGE
    return list(info.value.details)


def test_the_repository_config_is_valid() -> None:
    loaded = load_config(Path(__file__).parents[2] / "workflow.toml")
    names = [name for name, _ in loaded.config.ordered_stages()]
    assert names[:2] == ["lint", "format"]
    assert {"typecheck", "unit", "integration", "security"} <= set(names)
    assert loaded.config.sla.critical == ("unit",)


def test_three_mistakes_give_three_lines_naming_their_keys(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """
[stages.lint]
run = ["ruff", "check"]
timout = 3

[stages.unit]
run = ["pytest"]
timeout = -1

[lanes.docs]
stages = ["lint", "docs"]
""",
    )
    assert len(lines) == 3, lines
    joined = "\n".join(lines)
    assert "stages.lint.timout: unknown key" in joined
    assert "stages.unit.timeout: must be greater than 0 (got -1)" in joined
    assert 'lanes.docs.stages: "docs" is not a stage' in joined
    assert all(line.startswith(str(tmp_path / "workflow.toml")) for line in lines)


def test_needs_cycle_and_unknown_need_are_both_reported(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """
[stages.a]
run = "true"
needs = ["b"]
[stages.b]
run = "true"
needs = ["a", "ghost"]
""",
    )
    joined = "\n".join(lines)
    assert 'stages.b.needs: "ghost" is not a stage' in joined
    assert "the needs form a cycle" in joined


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("run = []", "stages.s.run: the command is empty"),
        ('run = ""', "stages.s.run: the command is empty"),
        ("timeout = 5", 'stages.s: needs exactly one of "run"'),
        ('run = "a"\ncall = "m:f"', 'stages.s: needs exactly one of "run"'),
        ('call = "nocolon"', 'stages.s.call: must look like "package.module:function"'),
        ('run = "a"\nkind = "gpu"', "stages.s.kind:"),
        ('run = "a \'unclosed"', "stages.s.run: cannot split the command"),
        ('run = "pytest"\njunit = true', "stages.s.junit: must be false or the path of the JUnit"),
        ('run = "pytest"\njunit = ""', "stages.s.junit: must be false or the path"),
        ('run = "pytest"\nrerun_failed = -1', "stages.s.rerun_failed: must be at least 0"),
        ('run = "pytest"\nrerun_failed = 11', "stages.s.rerun_failed: must be at most 10"),
        ('call = "m:f"\nrerun_failed = 2', 'stages.s.rerun_failed: applies to a "run" command'),
        ('call = "m:f"\njunit = "r.xml"', 'stages.s.junit: applies to a "run" command'),
        ('run = ["echo", "a\\u0000b"]', "stages.s.run: argument 2 contains a NUL character"),
        ('call = "m:f\\u0000"', "stages.s.call: contains a NUL character"),
        ('run = "a"\ncwd = "x\\u0000"', "stages.s.cwd: contains a NUL character"),
        ('run = "a"\nenv = { X = "a\\u0000b" }', "stages.s.env.X: contains a NUL character"),
        ('run = "a"\nenv = { "A=B" = "x" }', "stages.s.env.A=B: an environment variable name"),
        ('run = "a"\nenv = { "" = "x" }', 'stages.s.env."": an environment variable name'),
    ],
)
def test_stage_mistakes(tmp_path: Path, stage: str, expected: str) -> None:
    lines = problems(tmp_path, f"[stages.s]\n{stage}\n")
    assert any(expected in line for line in lines), lines


def test_lane_mistakes(tmp_path: Path) -> None:
    lines = problems(
        tmp_path,
        """
[stages.unit]
run = "pytest"
[lanes.heavy]
workers = 0
stage_sla = 0
strategy = "fastest"
sla = { nope = 3 }
[lanes.fast]
workers = 1
[sla]
critical = ["unti"]
""",
    )
    joined = "\n".join(lines)
    for key in (
        "lanes.heavy.workers",
        "lanes.heavy.stage_sla",
        "lanes.heavy.strategy",
        'lanes.heavy.sla: "nope" is not a stage',
        "lanes.fast: unknown key",
        'sla.critical: "unti" is not a stage',
    ):
        assert key in joined, (key, joined)


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[stages.a]\nrun = "x"\nbroken = = 1\n'))
    assert "line 3, column" in info.value.message
    assert info.value.message.startswith(str(tmp_path / "workflow.toml"))


def test_partial_lane_keeps_its_own_defaults(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, '[stages.a]\nrun = "true"\n[lanes.docs]\nworkers = 3\n'))
    docs = loaded.config.lanes.get(Lane.DOCS)
    assert docs.workers == 3
    assert docs.strategy is Strategy.THREAD
    assert docs.stage_sla == 10
    assert docs.fail_fast is True


def test_string_command_is_split_like_a_shell(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "[stages.a]\nrun = \"pytest -k 'a or b'\"\n"))
    assert loaded.config.stages["a"].run == ("pytest", "-k", "a or b")


def test_stage_numbers_default_to_declaration_order(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, '[stages.b]\nrun = "x"\n[stages.a]\nrun = "y"\n'))
    assert [(n, s.number) for n, s in loaded.config.ordered_stages()] == [("b", 2), ("a", 3)]


def test_pyproject_tool_workflow_is_used_without_workflow_toml(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[project]\nname = "x"\n[tool.workflow.stages.lint]\nrun = "ruff check ."\n'
        "[tool.workflow.lanes.heavy]\nworkers = -2\n",
        "pyproject.toml",
    )
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path)
    assert "tool.workflow.lanes.heavy.workers" in "\n".join(info.value.details)


def test_workflow_toml_wins_over_pyproject(tmp_path: Path) -> None:
    write(tmp_path, '[tool.workflow.stages.x]\nrun = "x"\n', "pyproject.toml")
    write(tmp_path, '[stages.y]\nrun = "y"\n')
    assert list(load_config(cwd=tmp_path).config.stages) == ["y"]


def test_builtin_defaults_without_any_file(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_pkg.py").write_text("")
    (tmp_path / "mypy.ini").write_text("[mypy]\n")
    (tmp_path / "Makefile").write_text("types:\n\tmypy pkg\n")
    loaded = load_config(cwd=tmp_path)
    assert loaded.path is None
    assert "built-in defaults" in loaded.source
    stages = loaded.config.stages
    assert stages["typecheck"].run == ("mypy", "pkg")
    assert stages["security"].run == ("bandit", "-q", "-ll", "-r", "pkg")  # medium and up
    assert stages["unit"].run == ("pytest", "-q", "-rfE", "tests")


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml")
    for existing in (Path("/dev/null"), tmp_path):
        with pytest.raises(ConfigError, match=r": is not a regular file\.$"):
            load_config(existing)


_scalars = st.one_of(
    st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=4), st.booleans()
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=3))
_stage_keys = st.sampled_from(
    ["run", "call", "needs", "timeout", "kill_grace", "kind", "retries", "env", "serial", "x"]
)
_stage = st.dictionaries(_stage_keys, st.one_of(_values, st.just(["a", "b"])), max_size=4)
_lane = st.dictionaries(
    st.sampled_from(["stages", "strategy", "workers", "stage_sla", "sla", "budget", "y"]),
    st.one_of(_values, st.dictionaries(st.sampled_from(["a", "b"]), _scalars, max_size=2)),
    max_size=3,
)
_document = st.fixed_dictionaries(
    {},
    optional={
        "stages": st.dictionaries(st.sampled_from(["a", "b", "c"]), _stage, max_size=3),
        "lanes": st.dictionaries(st.sampled_from(["docs", "heavy", "fast"]), _lane, max_size=2),
        "sla": st.dictionaries(st.sampled_from(["critical", "warning_ratio"]), _values),
        "trend": st.dictionaries(st.sampled_from(["recent", "significance"]), _values),
        "detect": st.dictionaries(st.sampled_from(["docs", "heavy_files"]), _values),
        "workflow": _values,
    },
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(_document)
def test_malformed_configurations_never_escape_as_tracebacks(
    tmp_path: Path, document: dict[str, object]
) -> None:
    text = "\n".join(f'"{key}" = {_toml_value(value)}' for key, value in document.items())
    path = write(tmp_path, text)
    try:
        load_config(path)
    except ConfigError as exc:
        assert exc.message.startswith(str(path))
        assert all(line.startswith(str(path)) for line in exc.details)


def test_every_configuration_field_has_a_reader_and_every_reader_a_field() -> None:
    """A key is declared twice (a dataclass field, a reader): the two must agree."""
    import dataclasses

    from orchestrator.configfile.readers import Fields, TableOf
    from orchestrator.configfile.schema import CONFIG

    checked: list[str] = []

    def walk(reader: object, path: str) -> None:
        if isinstance(reader, TableOf):
            walk(reader.item, f"{path}.<name>")
        elif isinstance(reader, Fields):
            declared = {f.name for f in dataclasses.fields(reader.model)}
            assert set(reader.readers) == declared, (path, set(reader.readers) ^ declared)
            checked.append(path)
            for key, inner in reader.readers.items():
                walk(inner, f"{path}.{key}".lstrip("."))

    walk(CONFIG, "")
    assert {"", "stages.<name>", "lanes.heavy", "trend"} <= set(checked)
    assert len(checked) == 10  # top, workflow, stages.<name>, lanes, 3 lanes, detect, sla, trend
