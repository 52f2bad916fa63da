"""What a run is asked (`RunRequest`) and how it began (`RunStart`): values, no loop.

They live apart from the run's loop (`pipeline/run.py`) so that the record writer, the
broken-runner verdict, preparation and finishing can all name them without importing the
loop that imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.masking import Masker
from orchestrator.model.status import GitRecord, HostRecord
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.plan import Plan


@dataclass(frozen=True)
class RunRequest:
    """Everything a run needs that the command line decided."""

    loaded: LoadedConfig
    plan: Plan
    report_dir: Path
    # The commit, or how to find it out: asking git costs a process start, which need not
    # delay the first stage, so the record writer asks (once) while the stages run.
    git: GitRecord | Callable[[], GitRecord] = field(default_factory=GitRecord)
    host: HostRecord = field(default_factory=HostRecord)
    cache_lookup: bool = True  # False (--no-cache): every stage runs; passes are still stored
    cache_verify: float = 0.0  # the share of would-be hits run anyway (`cache_verify`)
    cache_verify_seed: int | None = None  # None: a fresh seed for this run


@dataclass(frozen=True)
class RunStart:
    """A run's identity and directory, fixed before any stage starts."""

    run_id: str
    started_at: str
    run_dir: Path
    masker: Masker
    warnings: WriteWarnings = field(default_factory=WriteWarnings)
