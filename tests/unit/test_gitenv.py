"""Stages never see git's hook environment (model/gitenv.py, engine/toolpath.py)."""

from __future__ import annotations

import os

from orchestrator.engine.toolpath import stage_environment
from orchestrator.model.gitenv import LOCAL_REPO_ENV, is_hook_variable, without_location

# What git 2.39 exports to a pre-push hook run from a linked worktree with `git -c`.
HOOK = {
    "GIT_DIR": "/repo/.git/worktrees/side",
    "GIT_PREFIX": "",
    "GIT_EXEC_PATH": "/usr/lib/git-core",
    "GIT_CONFIG_PARAMETERS": "'core.bare'='true'",
    "GIT_INDEX_FILE": "/repo/.git/index",
    "GIT_WORK_TREE": "/repo",
    "GIT_OBJECT_DIRECTORY": "/repo/.git/objects/incoming",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES": "/repo/.git/objects",
    "GIT_QUARANTINE_PATH": "/repo/.git/objects/incoming",
    "GIT_COMMON_DIR": "/repo/.git",
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "core.hooksPath",
    "GIT_CONFIG_VALUE_0": "/elsewhere",
    "GIT_PUSH_OPTION_COUNT": "1",
    "GIT_PUSH_OPTION_0": "ci.skip",
}
# The user's own settings for git, which name no repository.
KEPT = {
    "GIT_AUTHOR_NAME": "someone",
    "GIT_COMMITTER_EMAIL": "someone@example.invalid",
    "GIT_SSH_COMMAND": "ssh -i key",
    "GIT_CONFIG_GLOBAL": "/home/u/.gitconfig",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_KEY_X": "not numbered: not git's",
    "PATH": "/usr/bin:/bin",
}


def test_a_stage_starts_without_the_variables_git_gives_its_hooks() -> None:
    env = stage_environment({**HOOK, **KEPT})
    assert sorted(name for name in env if name in HOOK) == ["GIT_EXEC_PATH"]
    for name, value in KEPT.items():
        if name != "PATH":
            assert env[name] == value
    assert env["PATH"].endswith(os.pathsep + KEPT["PATH"])


def test_gits_own_list_is_covered() -> None:
    # `git rev-parse --local-env-vars` of git 2.39, as githooks(5) says to unset them.
    listed = [
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    ]
    assert set(listed) <= LOCAL_REPO_ENV
    assert all(is_hook_variable(name) for name in listed)


def test_workflows_own_git_keeps_the_pushs_configuration_but_not_its_location() -> None:
    kept = without_location({**HOOK, **KEPT})
    assert "GIT_DIR" not in kept
    assert "GIT_INDEX_FILE" not in kept
    assert kept["GIT_CONFIG_PARAMETERS"] == HOOK["GIT_CONFIG_PARAMETERS"]
