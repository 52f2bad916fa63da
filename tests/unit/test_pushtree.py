"""Where a pushed commit is checked (lanes/pushtree.py): plain functions over paths."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lanes.pushtree import (
    InputScope,
    PushedCommit,
    differing_inputs,
    distinct_commits,
    is_input,
    place,
    short_ref,
)
from orchestrator.model.globs import compile_globs
from orchestrator.model.status import IN_PLACE, WORKTREE

SHAS = st.sampled_from(["a" * 40, "b" * 40, "c" * 40, "d" * 40])
REFS = st.sampled_from(["refs/heads/main", "refs/heads/topic", "refs/tags/v1", "HEAD", ""])
PATHS = st.lists(st.sampled_from(["src/a.py", "README.md", "docs/x.md", "notes.txt"]))


@given(st.lists(st.tuples(SHAS, REFS), min_size=1), st.one_of(st.none(), SHAS), PATHS)
def test_each_distinct_commit_is_checked_once_and_only_head_with_a_clean_tree_in_place(
    pushed: list[tuple[str, str]], head: str | None, differing: list[str]
) -> None:
    commits = distinct_commits(pushed)
    placements = place(commits, head, differing)
    assert sorted(p.commit.sha for p in placements) == sorted({sha for sha, _ in pushed})
    for placement in placements:
        expected = placement.commit.sha == head and not differing
        assert placement.in_place is expected
        assert placement.tree == (IN_PLACE if expected else WORKTREE)
    # The one checked in place (at most one) comes first.
    trees = [p.in_place for p in placements]
    assert trees == sorted(trees, reverse=True)
    assert sum(trees) <= 1


def test_refs_of_one_commit_are_kept_together_in_push_order() -> None:
    commits = distinct_commits(
        [("a" * 40, "refs/heads/x"), ("b" * 40, "refs/tags/v1"), ("a" * 40, "refs/heads/y")]
    )
    assert commits == (
        PushedCommit("a" * 40, ("refs/heads/x", "refs/heads/y")),
        PushedCommit("b" * 40, ("refs/tags/v1",)),
    )
    assert commits[0].label == "aaaaaaaaaaaa (x, y)"
    assert short_ref("refs/tags/v1") == "v1"
    assert short_ref("HEAD") == "HEAD"


def test_why_names_what_differs_or_the_checked_out_commit() -> None:
    commit = PushedCommit("a" * 40, ("refs/heads/main",))
    (dirty,) = place([commit], "a" * 40, ["src/a.py", "src/b.py", "src/c.py", "src/d.py"])
    assert dirty.why == (
        "the work tree differs from it under the stages' inputs "
        "(src/a.py, src/b.py, src/c.py and 1 more)"
    )
    (other,) = place([commit], "b" * 40, [])
    assert other.why == "it is not the checked-out commit (bbbbbbbbbbbb)"


def test_inputs_are_under_a_stages_cwd_matching_its_patterns_or_its_tools_settings() -> None:
    everything = InputScope("app")
    narrow = InputScope("app", compile_globs(["src/**"], "stages.x.inputs"))
    assert is_input("app/src/m.py", everything)
    assert is_input("app/notes.txt", everything)  # no patterns: everything under the cwd
    assert not is_input("other/m.py", everything)
    assert is_input("app/src/m.py", narrow)
    assert not is_input("app/notes.txt", narrow)
    # Settings tools find by walking up count above the cwd, never beside it.
    assert is_input("pyproject.toml", narrow)
    assert is_input("app/setup.cfg", narrow)
    assert not is_input("other/pyproject.toml", narrow)
    top = InputScope("")
    assert is_input("anything/at/all.py", top)


def test_differing_inputs_keep_only_what_some_stage_reads_and_the_configuration() -> None:
    scopes = [InputScope("app", compile_globs(["*.py"], "stages.x.inputs"))]
    changed = ["app/a.py", "app/a.md", "docs/b.md", "workflow.toml"]
    assert differing_inputs(changed, scopes, always=["workflow.toml"]) == (
        "app/a.py",
        "workflow.toml",
    )
    assert differing_inputs(changed, []) == ()
