"""The tree token: how a process says which stage attempt of which run it belongs to.

Every process of a stage attempt starts with `WORKFLOW_TREE` in its environment, holding
the attempt's token (`<workflow pid>-<random>.<n>`) after any tokens of an outer run (a
`workflow run` inside a stage of another). Children inherit it, wherever they go: a daemon
that left its stage's tree still carries it. Read from `/proc/PID/environ`, the
environment the process started with (Linux).
"""

from __future__ import annotations

TREE_VARIABLE = "WORKFLOW_TREE"


def with_tree(env: dict[str, str], token: str) -> dict[str, str]:
    """`env` with `token` added to WORKFLOW_TREE (an outer run's tokens are kept)."""
    outer = env.get(TREE_VARIABLE, "")
    return {**env, TREE_VARIABLE: f"{outer} {token}".strip()}


def tokens_of(pid: int) -> list[str]:
    """The WORKFLOW_TREE tokens in a process's initial environment ([] if unreadable)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:  # noqa: PTH123 - hot path
            environ = file.read()
    except OSError:
        return []
    prefix = TREE_VARIABLE.encode() + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix) :].decode("ascii", "replace").split()
    return []
