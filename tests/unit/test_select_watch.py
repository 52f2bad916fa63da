"""Which processes a test starts can be followed, and which reads count (the audit side)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.engine.pytest.plugins import PLUGIN_DIR


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The module as a stage imports it: its directory on the path."""
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    import workflow_select_watch  # type: ignore[import-not-found]

    yield workflow_select_watch


def env_with(watch: Any, **extra: str) -> dict[str, str]:
    return {watch.CHILD_ENV: "{}", "PYTHONPATH": watch.SITE_DIR, **extra}


def test_a_python_started_with_its_inherited_environment_is_followed(
    watch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(watch.CHILD_ENV, "{}")
    monkeypatch.setenv("PYTHONPATH", watch.SITE_DIR)
    popen = (sys.executable, [sys.executable, "-m", "pkg"], None, None)
    assert watch.unfollowed("subprocess.Popen", popen) is None
    script = ("/usr/bin/git", ["git", "status"], None, env_with(watch))
    assert watch.unfollowed("subprocess.Popen", script) is None


def test_a_python_that_skips_its_start_up_or_drops_the_variables_is_not(watch: Any) -> None:
    isolated = (None, ["python3", "-I", "-c", "pass"], None, env_with(watch))
    assert watch.unfollowed("subprocess.Popen", isolated) == (
        "it starts python3 -I, which skips workflow's measurement"
    )
    combined = (None, ["python3", "-Es", "x.py"], None, env_with(watch))
    assert "skips workflow's measurement" in watch.unfollowed("subprocess.Popen", combined)
    own = (None, ["tool"], None, {"PATH": "/usr/bin"})
    assert watch.unfollowed("subprocess.Popen", own) == (
        "it starts tool with an environment of its own"
    )
    path = (None, ["tool"], None, env_with(watch, PYTHONPATH="/elsewhere"))
    assert watch.unfollowed("subprocess.Popen", path) == (
        "it starts tool with a PYTHONPATH of its own"
    )
    execed = ("/bin/sh", ["sh"], {"PATH": "/bin"})
    assert watch.unfollowed("os.exec", execed) == "it starts sh with an environment of its own"


def test_reads_count_only_when_the_project_asked(watch: Any, tmp_path: Any) -> None:
    root = os.path.realpath(tmp_path)
    watcher = watch.Watcher(root, [])
    data = tmp_path / "data.json"
    data.write_text("{}")
    watcher.context = "t::a"
    watcher.audit("open", (str(data), "r", 0))  # asked by this test, outside the project
    assert watcher.current().reads == set()
    assert watcher.project_path(__file__) is None
    # A function of the project's own reports the read as the audit hook would.
    project_code = tmp_path / "reader.py"
    project_code.write_text(
        "def read(watcher, path, mode='r'):\n    watcher.audit('open', (path, mode, 0))\n"
    )
    spec = importlib.util.spec_from_file_location("reader", project_code)
    assert spec is not None and spec.loader is not None
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    namespace = vars(reader)
    namespace["read"](watcher, str(data))
    assert watcher.current().reads == {"data.json"}
    assert watcher.read_by["data.json"] == {("reader.py", "read")}
    namespace["read"](watcher, str(tmp_path / "out.txt"), "w")  # written: an output
    namespace["read"](watcher, str(tmp_path / "__pycache__" / "x.pyc"))
    namespace["read"](watcher, str(tmp_path / "absent.json"))  # its absence counts too
    assert watcher.current().reads == {"data.json", "absent.json"}


def test_learning_says_why_it_cannot_start(watch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import workflow_select_learn  # type: ignore[import-not-found]

    learn = {"python": "cpython-99", "coverage": "/nowhere"}
    monkeypatch.setitem(sys.modules, "coverage", None)  # not importable in this "stage"
    assert workflow_select_learn.start_problem(learn) == (
        "coverage is not importable in the stage's environment (workflow's own needs "
        f"cpython-99, the stage runs {sys.implementation.cache_tag}); install coverage in it"
    )
    previous = sys.gettrace()
    sys.settrace(lambda *args: None)
    try:
        found = workflow_select_learn.start_problem(learn)
    finally:
        sys.settrace(previous)
    assert found == "another tracer (coverage, a debugger) is active in the stage"
