"""The lane tests' real repositories: a clone made by the helpers tracks its remote."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.lanes_repo import remote_and_clone


def test_the_clone_tracks_origin_main(tmp_path: Path) -> None:
    _bare, work = remote_and_clone(tmp_path)
    assert work.git("rev-parse", "--abbrev-ref", "@{upstream}") == "origin/main"
    assert work.git("symbolic-ref", "--short", "refs/remotes/origin/HEAD") == "origin/main"
    assert work.sha() == work.sha("origin/main")
