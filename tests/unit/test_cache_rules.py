"""The result cache's pure rules: where `inputs` patterns point, which would-be hits are
verified, how an audit reads strace's and the audit hook's lines, where configuration
files are found and how they are keyed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.cache.audit import (
    Reads,
    Scope,
    compare,
    python_lines,
    strace_lines,
    suggested_inputs,
)
from orchestrator.cache.configs import ancestor_configs, user_configs
from orchestrator.cache.filestate import Unkeyable
from orchestrator.cache.inputs import anchored_patterns, literal_paths
from orchestrator.cache.verify import chosen, draw
from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.config import WorkflowConfig, WorkflowSection
from orchestrator.model.globs import compile_globs
from orchestrator.model.status import CheckedCommit
from orchestrator.pipeline.prepare import RunOptions, verify_rate

segment = st.text(alphabet="abcxyz_", min_size=1, max_size=6)
relative = st.lists(segment, min_size=1, max_size=4).map("/".join)


@given(cwd=st.one_of(st.just("."), relative), inside=relative, name=segment)
def test_a_pattern_keeps_its_meaning_inside_the_cwd(cwd: str, inside: str, name: str) -> None:
    full = inside if cwd == "." else f"{cwd}/{inside}"
    for pattern in (name, f"{name}/**", f"/{name}", f"**/{name}", inside, f"*/{name}"):
        original = compile_globs([pattern], "t").match(inside)
        anchored = compile_globs(anchored_patterns([pattern], cwd), "t")
        assert (original is None) == (anchored.match(full) is None), pattern
        if cwd != "." and not inside.startswith(cwd + "/"):
            # Nothing outside the cwd matches a pattern written relative to it.
            assert anchored.match(inside) is None, pattern


def test_patterns_can_point_at_the_top_or_above_the_cwd() -> None:
    assert anchored_patterns(["//pyproject.toml", "../shared/**", "src/*.py"], "svc/api") == [
        "/pyproject.toml",
        "/svc/shared/**",
        "/svc/api/src/*.py",
    ]
    assert anchored_patterns(["*.py", "/x", "a/b"], ".") == ["*.py", "/x", "a/b"]  # as written
    assert anchored_patterns(["*.py"], "a") == ["/a/**/*.py"]
    assert anchored_patterns(["x"], "we[ird]") == ["/we\\[ird]/**/x"]
    with pytest.raises(Unkeyable, match="leaves the work tree"):
        anchored_patterns(["../../x"], "a")
    assert literal_paths(["/a/b.txt", "/a/*.py", "!/a/c", "/a/**"]) == ["a/b.txt"]


@given(seed=st.integers(0, 2**32 - 1), stage=st.text(max_size=20), rate=st.floats(0, 1))
def test_the_draw_is_fixed_by_the_seed_and_grows_with_the_rate(
    seed: int, stage: str, rate: float
) -> None:
    assert 0 <= draw(seed, stage) < 1
    assert not chosen(seed, stage, 0.0) and chosen(seed, stage, 1.0)
    if chosen(seed, stage, rate):
        assert chosen(seed, stage, min(1.0, rate + 0.1))
    assert chosen(seed, stage, rate) == chosen(seed, stage, rate)


def test_a_share_of_stages_is_drawn() -> None:
    picked = sum(chosen(7, f"stage{n}", 0.05) for n in range(4000))
    assert 120 < picked < 280  # about 5% of 4000


def _loaded(rate: float) -> LoadedConfig:
    config = WorkflowConfig(workflow=WorkflowSection(cache_verify=rate))
    return LoadedConfig(config=config, path=None, root=Path("/"))


def test_the_pre_push_hook_leaves_verification_at_zero() -> None:
    assert verify_rate(RunOptions(), _loaded(0.05)) == 0.05
    assert verify_rate(RunOptions(push_lines=["refs"]), _loaded(0.05)) == 0.0
    assert verify_rate(RunOptions(push_lines=["refs"], cache_verify=0.5), _loaded(0.05)) == 0.5
    assert verify_rate(RunOptions(cache_verify=0.0), _loaded(1.0)) == 0.0
    # One pushed commit the hook checks (pipeline/pushcheck.py) carries no lines of its own.
    pushed = CheckedCommit("a" * 40, "main", "in place")
    assert verify_rate(RunOptions(checked=pushed), _loaded(0.05)) == 0.0


STRACE = """\
101 execve("/usr/bin/ruff", ["ruff", "check", "."], 0x7ffc /* 30 vars */) = 0
101 openat(AT_FDCWD</r/svc>, "ruff.toml", O_RDONLY|O_CLOEXEC) = 3</r/svc/ruff.toml>
101 openat(AT_FDCWD</r/svc>, "missing.toml", O_RDONLY) = -1 ENOENT (No such file)
102 openat(AT_FDCWD</r/svc>, "out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666 <unfinished ...>
101 openat(AT_FDCWD</r/svc>, "../shared/base.toml", O_RDONLY <unfinished ...>
102 <... openat resumed>) = 4</r/svc/out.txt>
101 <... openat resumed>) = 5</r/shared/base.toml>
103 execve("/nope", ["nope"], 0x7ffc /* 30 vars */) = -1 ENOENT (No such file)
104 openat(AT_FDCWD</r>, "odd", O_RDONLY) = 3</r/with\\x20space>
"""


def test_strace_lines_name_files_read_written_and_programs() -> None:
    reads = Reads()
    strace_lines(STRACE.splitlines(), reads)
    assert reads.read == {"/r/svc/ruff.toml", "/r/shared/base.toml", "/r/with space"}
    assert reads.written == {"/r/svc/out.txt"}
    assert reads.programs == {"/usr/bin/ruff"}


def test_the_audit_hook_lines_are_read_and_compared(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    for name in ("svc/a.py", "svc/data.json", "shared/x.cfg", "svc/.venv/lib/y.py", "svc/o.txt"):
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text("x")
    (top / "svc/.venv/pyvenv.cfg").write_text("home = /usr/bin\n")
    reads = Reads()
    lines = [f"r\t{top}/svc/{name}" for name in ("a.py", "data.json", ".venv/lib/y.py", "o.txt")]
    lines += [f"r\t{top}/shared/x.cfg", f"w\t{top}/svc/o.txt", "x\truff", f"r\t{tmp_path}/else"]
    python_lines(lines, reads)
    scope = Scope(top, "svc", (), (), frozenset({"svc/data.json"}))
    found = compare(reads, {"svc/a.py": "100644 1"}, scope)
    assert [(u.path, u.why, u.pattern) for u in found.unkeyed] == [
        ("shared/x.cfg", "outside the stage's directory", "//shared/x.cfg"),
        ("svc/data.json", "git ignores it", "/data.json"),
    ]
    assert (found.keyed, found.outputs) == (1, 1)
    assert suggested_inputs(None, found) == 'inputs = ["**", "//shared/x.cfg", "/data.json"]'
    assert suggested_inputs(("src/**",), found).startswith('inputs = ["src/**", ')


def test_configuration_is_found_up_to_the_root_and_keyed_from_the_top(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    (top / "svc" / "api").mkdir(parents=True)
    for name in ("pyproject.toml", "svc/setup.cfg", "svc/api/conftest.py", "../tox.ini"):
        (top / name).write_text("x")
    found = ancestor_configs(top / "svc" / "api", top)
    assert {"pyproject.toml", "svc/setup.cfg", "svc/api/conftest.py", "../tox.ini"} <= set(found)
    home = tmp_path / "home"
    (home / ".config" / "ruff").mkdir(parents=True)
    (home / ".config" / "ruff" / "ruff.toml").write_text("x")
    (home / ".mypy.ini").write_text("x")
    assert set(user_configs({"HOME": str(home)})) == {"~config/ruff/ruff.toml", "~/.mypy.ini"}
    elsewhere = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert set(user_configs(elsewhere)) == {"~/.mypy.ini"}
