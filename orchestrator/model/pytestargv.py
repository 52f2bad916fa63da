"""Whether a command runs pytest: such a stage gets a JUnit file, reruns and splits."""

from __future__ import annotations

from pathlib import PurePosixPath


def is_pytest(argv: tuple[str, ...]) -> bool:
    """`pytest ...`, `py.test ...` or `python -m pytest ...`."""
    if not argv:
        return False
    program = PurePosixPath(argv[0].replace("\\", "/")).name.removesuffix(".exe")
    if program in ("pytest", "py.test"):
        return True
    return program.startswith("python") and tuple(argv[1:3]) == ("-m", "pytest")
