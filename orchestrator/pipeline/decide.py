"""The lane for a change: the one decision `workflow lane` prints and a run takes.

Both ask this function with the same inputs (the change source, the environment's CI
variables, workflow's own outputs under the reports directory in use), so a new change
source or input is one edit here, never two that can drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.configfile.load import LoadedConfig

if TYPE_CHECKING:
    from lanes.changes import LaneDecision


def decide(  # noqa: PLR0913 - one keyword per change source, as lanes.decide_lane takes them
    loaded: LoadedConfig,
    *,
    base: str | None = None,
    head: str | None = None,
    changed_files: Sequence[str] | None = None,
    push_lines: Sequence[str] | None = None,
    report_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> LaneDecision:
    """The lane of the change in `loaded`'s project, and its reasons (`lane` None:
    nothing to check). `report_dir` None: the configuration's; `env` None: os.environ.

    Raises UsageError for unusable change inputs (pre-push lines, refs), as
    `lanes.decide.decide_lane` does.
    """
    # lanes (and git's helpers) load only for an automatic lane: a forced lane reaches its
    # first stage without them. This module's one deferred import.
    from lanes.decide import decide_lane  # noqa: PLC0415 - see the comment above

    return decide_lane(
        loaded.root,
        loaded.config.detect,
        base=base,
        head=head,
        changed_files=changed_files,
        push_lines=push_lines,
        env=env,
        own_outputs=loaded.own_outputs(report_dir),
    )
