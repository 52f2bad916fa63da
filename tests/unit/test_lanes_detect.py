"""The rule function: DOCS, STANDARD or HEAVY from a change set, and why."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from lanes.changes import ChangeSet, FileChange, LaneDecision, Status
from lanes.detect import choose_lane
from orchestrator.model.config import DetectConfig, Lane
from orchestrator.model.globs import compile_globs

DETECT = DetectConfig()


def changes(*paths: str, lines: int = 1) -> ChangeSet:
    return ChangeSet(
        files=tuple(FileChange(path, added=lines) for path in paths),
        description="main...HEAD",
        base="abc",
    )


def test_docs_only_is_docs() -> None:
    decision = choose_lane(changes("README.md", "docs/guide/setup.txt"), DETECT)
    assert decision.lane is Lane.DOCS
    assert "README.md (**/*.md)" in decision.reasons[0]
    assert "docs/guide/setup.txt (docs/**)" in decision.reasons[0]
    assert decision.changed == ("README.md", "docs/guide/setup.txt")
    assert decision.base == "abc"


def test_pyproject_is_heavy_and_names_the_pattern() -> None:
    decision = choose_lane(changes("pyproject.toml", "README.md"), DETECT)
    assert decision.lane is Lane.HEAVY
    assert decision.reasons[0] == "pyproject.toml (pyproject.toml) matches detect.heavy"


def test_many_files_are_heavy() -> None:
    decision = choose_lane(changes(*(f"src/m{i}.py" for i in range(50))), DETECT)
    assert decision.lane is Lane.HEAVY
    assert decision.reasons[0] == "50 files changed, more than detect.heavy_files (40)"


def test_many_lines_are_heavy() -> None:
    decision = choose_lane(changes("src/a.py", lines=801), DETECT)
    assert decision.lane is Lane.HEAVY
    assert decision.reasons[0] == "801 lines changed, more than detect.heavy_lines (800)"


def test_a_large_docs_change_is_still_heavy() -> None:
    decision = choose_lane(changes(*(f"docs/p{i}.md" for i in range(41))), DETECT)
    assert decision.lane is Lane.HEAVY


def test_code_is_standard() -> None:
    decision = choose_lane(changes("src/app.py", "README.md"), DETECT)
    assert decision.lane is Lane.STANDARD
    assert decision.reasons[0].startswith("1 changed file is not documentation (src/app.py)")
    assert decision.reasons[1] == "2 files and 2 lines changed in main...HEAD"


def test_both_names_of_a_rename_count() -> None:
    moved = FileChange("src/guide.py", Status.RENAMED, old_path="docs/guide.md")
    decision = choose_lane(ChangeSet(files=(moved,)), DETECT)
    assert decision.lane is Lane.STANDARD
    assert decision.changed == ("docs/guide.md", "src/guide.py")


def test_no_change_is_nothing_to_check() -> None:
    decision = choose_lane(ChangeSet(description="main...HEAD"), DETECT)
    assert decision == LaneDecision(None, ("nothing changed in main...HEAD",))


def test_unknown_changes_are_heavy_with_the_reason() -> None:
    unknown = ChangeSet(undetermined="the base x is not a commit in this repository")
    decision = choose_lane(unknown, DETECT)
    assert decision.lane is Lane.HEAVY
    assert decision.reasons == ("the base x is not a commit in this repository",)


def test_unknown_line_counts_skip_the_line_rule() -> None:
    listed = ChangeSet(
        files=(FileChange("src/a.py", Status.LISTED, added=5000),), lines_known=False
    )
    decision = choose_lane(listed, DETECT)
    assert decision.lane is Lane.STANDARD
    assert "line counts unknown" in decision.reasons[1]


def test_long_lists_are_shortened() -> None:
    decision = choose_lane(changes(*(f"src/m{i}.py" for i in range(8))), DETECT)
    assert "and 3 more" in decision.reasons[0]


def test_json_shape() -> None:
    decision = choose_lane(changes("README.md"), DETECT)
    assert decision.as_json() == {
        "lane": "docs",
        "reasons": list(decision.reasons),
        "base": "abc",
        "changed": ["README.md"],
    }


COMPONENT = st.text(alphabet="abcdefgh_-", min_size=1, max_size=8)
DIRS = st.lists(COMPONENT, max_size=3).map(lambda parts: "".join(f"{p}/" for p in parts))
DOCS_PATHS = st.one_of(
    st.builds(lambda d, n: f"{d}{n}.md", DIRS, COMPONENT),
    st.builds(lambda d, n: f"docs/{d}{n}.py", DIRS, COMPONENT),
)
ANY_PATHS = st.one_of(
    DOCS_PATHS,
    st.builds(lambda d, n, e: f"{d}{n}.{e}", DIRS, COMPONENT, st.sampled_from(["py", "txt", ""])),
    st.sampled_from(["pyproject.toml", "requirements-dev.txt", ".github/workflows/ci.yml"]),
)
HEAVY_PATHS = st.one_of(
    st.sampled_from(["pyproject.toml", "workflow.toml", "requirements.txt"]),
    st.builds(lambda d, n: f"{d}{n}.lock", DIRS, COMPONENT),
    st.builds(lambda d, n: f".github/{d}{n}", DIRS, COMPONENT),
)
DOCS_GLOBS = compile_globs(DETECT.docs, "detect.docs")


def change_set(paths: list[str], lines: int) -> ChangeSet:
    return ChangeSet(files=tuple(FileChange(path, added=lines) for path in paths))


@given(st.lists(DOCS_PATHS, min_size=1, max_size=10), ANY_PATHS, st.integers(0, 30))
def test_adding_a_non_docs_path_never_keeps_docs(docs: list[str], extra: str, lines: int) -> None:
    assert choose_lane(change_set(docs, lines), DETECT).lane is Lane.DOCS
    assume(DOCS_GLOBS.match(extra) is None)
    assert choose_lane(change_set([*docs, extra], lines), DETECT).lane is not Lane.DOCS


@given(st.lists(ANY_PATHS, max_size=60), HEAVY_PATHS, st.integers(0, 100))
def test_adding_a_heavy_path_always_gives_heavy(paths: list[str], heavy: str, lines: int) -> None:
    decision = choose_lane(change_set([*paths, heavy], lines), DETECT)
    assert decision.lane is Lane.HEAVY
    assert heavy in decision.changed


@given(st.lists(ANY_PATHS, max_size=60), st.integers(0, 100))
def test_every_change_gets_a_lane_and_a_reason(paths: list[str], lines: int) -> None:
    decision = choose_lane(change_set(paths, lines), DETECT)
    assert (decision.lane is None) is (not paths)
    assert decision.reasons
