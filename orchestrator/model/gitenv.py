"""The variables git exports to the hooks it runs, which point git at the hook's repository.

Pushing from a linked worktree or a submodule, git hands the pre-push hook `GIT_DIR`
(and always `GIT_PREFIX`; `git -c ... push` adds `GIT_CONFIG_PARAMETERS`). A stage that
inherits them and builds a throwaway repository of its own (`git init "$tmp"`,
`git -C "$tmp" commit`) writes into the user's repository instead: commits onto the pushed
branch, `core.bare = true` in its config (evilmartians/lefthook#1265). githooks(5) gives
the remedy, `unset $(git rev-parse --local-env-vars)`: `LOCAL_REPO_ENV` is git's own list
(git 2.39), plus what git sets for other hooks (`GIT_QUARANTINE_PATH`, push options).
pre-commit strips every `GIT_*` variable but a few (pre-commit#300); git's list is the
narrower and documented one: `GIT_EXEC_PATH` (the git installation), `GIT_SSH_COMMAND`,
`GIT_ASKPASS`, `GIT_AUTHOR_*` and `GIT_CONFIG_GLOBAL` name no repository and stay.

workflow's own git commands name their directory (`cwd`) and find the repository from
there, so they drop the variables that say where a repository is (`LOCATION_ENV`), and
keep the push's configuration (`git -c safe.directory=... push` still applies to them).
"""

from __future__ import annotations

from collections.abc import Mapping

# Where a repository, its index, objects and work tree are.
LOCATION_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_QUARANTINE_PATH",
        "GIT_GRAFT_FILE",
        "GIT_SHALLOW_FILE",
        "GIT_REPLACE_REF_BASE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_CONFIG",
    }
)
# `git rev-parse --local-env-vars` (git 2.39), and the hooks' own variables.
LOCAL_REPO_ENV = LOCATION_ENV | {
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PUSH_OPTION_COUNT",
}
# Numbered companions of GIT_CONFIG_COUNT and GIT_PUSH_OPTION_COUNT: inert once the count
# is gone, removed so that a stage never sees half of them.
_NUMBERED = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_PUSH_OPTION_")


def is_hook_variable(name: str) -> bool:
    """Whether `name` is one of the variables a stage must not inherit from a git hook."""
    if name in LOCAL_REPO_ENV:
        return True
    return name.startswith(_NUMBERED) and name.rpartition("_")[2].isdigit()


def without_hook_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without git's hook variables: what every stage starts from."""
    return {name: value for name, value in env.items() if not is_hook_variable(name)}


def without_location(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the variables that tell git where a repository is: workflow's own git
    commands find it from the directory they run in."""
    return {name: value for name, value in env.items() if name not in LOCATION_ENV}
