"""A stage that cannot start says why in its own words (real processes)."""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.spec import StageSpec
from orchestrator.model.config import Strategy
from orchestrator.model.records import StageStatus
from tests.integration.test_callable_isolation import run


def test_a_script_whose_interpreter_is_missing_says_so(tmp_path: Path) -> None:
    script = tmp_path / "badinterp.sh"
    script.write_text("#!/nonexistent/interp -x\necho x\n")
    script.chmod(0o755)
    specs = [
        StageSpec("bad", 2, command=("./badinterp.sh",), cwd=tmp_path),
        StageSpec("gone", 3, command=("./no-such-script",), cwd=tmp_path),
    ]
    records = run(specs, tmp_path, Strategy.THREAD)
    assert records["bad"].status is StageStatus.ERROR
    assert records["bad"].error == (
        "bad interpreter /nonexistent/interp (from the #! line of ./badinterp.sh)"
    )
    assert records["gone"].error == "command not found: ./no-such-script"
