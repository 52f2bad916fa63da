"""The run record (DESIGN.md, schema 1): what a run did, as frozen values.

Everything downstream (SLA verdicts, bottlenecks, reports, history, trends) reads these
values. They are plain dataclasses: a run builds and writes its record after every stage,
and that path should cost nothing to load. What comes back from disk (`workflow report
RUN.json`, `history import`, the history database) is untrusted, so reading goes through
pydantic's validation of these same dataclasses (`record_from_data`), which loads only then.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from orchestrator.model.errors import RecordError
from orchestrator.model.files import write_atomic
from orchestrator.model.plain import to_data
from orchestrator.model.runs import Runs, runs_of_display
from orchestrator.model.status import (
    GitRecord,
    HostRecord,
    ShardOrigin,
    SlaStatus,
    StageStatus,
)
from orchestrator.model.testresults import TestsSummary
from orchestrator.model.textinput import read_text
from orchestrator.model.writes import reason

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

SCHEMA_VERSION = 1
__all__ = [
    "Bottleneck",
    "CacheVerify",
    "FileEdit",
    "GitRecord",
    "HostRecord",
    "PoolRecord",
    "RunRecord",
    "SlaRecord",
    "SlaStatus",
    "StageCache",
    "StagePart",
    "StageRecord",
    "StageSla",
    "StageStatus",
    "read_record",
    "record_from_data",
    "to_data",
    "write_record",
]


class _Data:
    """What every record part can do: turn into its JSON-ready form.

    On read (pydantic validates these dataclasses, see `record_from_data`) a number where
    text is expected is taken as its text: an older or hand-made record's `"worker": 3`
    is worker "3", not a reason to refuse the whole record.
    """

    __pydantic_config__: ClassVar[dict[str, object]] = {"coerce_numbers_to_str": True}

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form."""
        data: dict[str, Any] = to_data(self)
        return data


@dataclass(frozen=True, kw_only=True)
class StageSla(_Data):
    """A stage's duration target and its verdict."""

    target_s: float | None = None
    status: SlaStatus = SlaStatus.NONE
    max_rss_bytes: int | None = None
    rss_status: SlaStatus = SlaStatus.NONE


@dataclass(frozen=True, kw_only=True)
class StageCache(_Data):
    """What the result cache did for a stage (DESIGN "Result cache").

    A hit: `hit` true, `from_run` the run whose pass was reused, `saved_s` that run's
    duration of the stage. A stage that ran: `hit` false, `stored` whether its pass went
    into the cache, `reason` why not when it did not. `key` is the hex key either way, or
    "" when the stage could not be keyed (`reason` says why: no git, cwd outside the tree,
    a submodule with changes of its own, ...). `verified` (`[workflow] cache_verify`):
    for a stored pass this run found, whether it ran anyway to check it (`from_run` names
    the pass); `diverged` whether it then failed: the entry was removed and the stage's
    real result stands. `config_files` are the configuration files tools find by
    themselves that the key holds (paths relative to the work tree's top, `../` above it,
    `~/` in the home directory); `environments` the Python environments it holds, in the
    order the stage's PATH finds them.
    """

    hit: bool
    key: str
    from_run: str | None = None
    saved_s: float | None = None
    stored: bool | None = None
    reason: str | None = None
    verified: bool | None = None
    diverged: bool | None = None
    config_files: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CacheVerify(_Data):
    """How a run checked would-be cache hits: the share it ran anyway, and the seed of
    its draw (`cache/verify.py`: the same seed picks the same stages)."""

    rate: float
    seed: int


@dataclass(frozen=True, kw_only=True)
class StagePart(_Data):
    """One part of a split stage (DESIGN "Beyond one machine: shards"): a pytest process
    given its share of the test files, measured as a stage is. `start_offset_s` is from
    the start of the run it ran in; `shard` names that run's shard after a merge."""

    part: str  # "K/N"
    status: StageStatus
    exit_code: int | None = None
    start_offset_s: float = 0.0
    duration_s: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_bytes: int = 0
    tests: int | None = None  # tests it ran, from its JUnit file
    predicted_s: float | None = None  # what the split plan expected of it
    log: str | None = None
    junit: str | None = None
    error: str | None = None
    shard: str | None = None
    collected: int | None = None  # tests its pytest collected, before keeping its share
    collection: str | None = None  # a digest of their ids: equal in every part, or failed


@dataclass(frozen=True, kw_only=True)
class FileEdit(_Data):
    """A file a stage changed among those git tracks or would track (DESIGN "Stages do not
    edit the sources"): `path` relative to the work tree's top, `change` one of
    "modified", "added", "deleted"."""

    path: str
    change: str


@dataclass(frozen=True, kw_only=True)
class StageRecord(_Data):
    """One stage's outcome and measurements."""

    number: int
    name: str
    status: StageStatus
    exit_code: int | None = None
    attempts: int = 0
    start_offset_s: float = 0.0
    duration_s: float = 0.0
    cpu_seconds: float = 0.0
    cpu_percent: float = 0.0
    peak_rss_bytes: int = 0
    worker: str | None = None
    executor: str | None = None
    kind: str | None = None  # "cpu" / "io": declared or inferred
    command: str | None = None
    runs: Runs | None = None  # a command, pytest or a callable (model/runs.py)
    log: str | None = None
    error: str | None = None
    needs: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()  # shared resources it held ([resources] has their limits)
    serial: bool = False
    expected_s: float | None = None  # what history expected: the pool's start priority
    cpu_demand: float | None = None  # cores the adaptive admission budgeted for it
    nice: int = 0  # the niceness it ran at: above 0, it yielded the CPU to the longest stage
    sla: StageSla = field(default_factory=StageSla)
    cache: StageCache | None = None
    # The runner's problem behind this stage's outcome (it could not start: "Too many open
    # files (EMFILE)"; the OOM killer ended it; it was ended or never started because the
    # runner broke), None when the outcome is the stage's own (DESIGN "A broken runner").
    runner_fault: str | None = None

    @property
    def cache_hit(self) -> bool:
        """Whether this stage's result was reused rather than run: such a stage's duration
        says nothing about the stage, so trends, profiles and the scheduler skip it."""
        return self.cache is not None and self.cache.hit

    tests: TestsSummary | None = None  # when the stage wrote a JUnit file
    # A split stage's parts; its own figures are theirs together: the wall time from its
    # start to its last part's end, CPU seconds added, peak memory added (the parts run
    # at the same time).
    parts: tuple[StagePart, ...] = ()
    # Files it changed, added or removed in the work tree: a stage with `writes = true`
    # lists them; any other stage that changed one failed, naming them.
    changed_files: tuple[FileEdit, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PoolRecord(_Data):
    """How the pool as a whole performed."""

    total_duration_s: float = 0.0
    throughput_tasks_per_s: float = 0.0
    worker_utilization_percent: float = 0.0
    avg_task_s: float = 0.0
    max_task_s: float = 0.0
    completed: int = 0
    total: int = 0
    critical_path: tuple[str, ...] = ()  # the chain that sets the wall time, as replayed
    waited: tuple[str, ...] = ()  # stages at the chain's end that only waited for a worker
    # Why the run's timing makes no speed findings ("" when it does): interrupted, cut
    # short, or a schedule its replay does not reproduce (sla.bottlenecks).
    untimed: str = ""
    sizing_reason: str = ""
    # What the run did not get from the user but from workflow itself: "strategy" (the
    # lane's default), "workers" (auto, or the lane's default). Advice never argues with
    # these unless the replay shows they cost time.
    chosen_by_workflow: tuple[str, ...] = ()
    usable_cpus: float = 0.0
    monitor_cpu_seconds: float = 0.0
    resources: dict[str, int] = field(default_factory=dict)  # [resources]: name -> limit


@dataclass(frozen=True, kw_only=True)
class SlaRecord(_Data):
    """The run's verdict against the lane's targets."""

    warning_ratio: float = 0.8
    budget_s: float | None = None
    budget_status: SlaStatus = SlaStatus.NONE
    critical_violation: bool = False
    violations: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Bottleneck(_Data):
    """A finding that explains where time went, with what to do about it.

    `saving_s`: seconds the whole run would be shorter, from replaying its schedule with
    the change the finding recommends; None for advice that does not shorten the run.
    """

    kind: str
    stage: str | None = None
    detail: str
    recommendation: str
    saving_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class ShardRun(_Data):
    """One shard that `workflow merge` took in: which, its run, its outcome, its wall time."""

    shard: str  # "K/N"
    run_id: str | None = None  # None: no record of this shard was given
    exit_code: int | None = None
    duration_s: float = 0.0
    stages: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunRecord(_Data):
    """One run, as written to `<reports>/<run_id>/run.json`."""

    schema: int = SCHEMA_VERSION
    run_id: str
    started_at: str
    lane: str
    lane_reasons: tuple[str, ...] = ()
    lane_forced: bool = False
    shard: str | None = None  # "K/N": this run is one shard of the lane (`run --shard`)
    shard_plan: ShardOrigin | None = None  # the plan and configuration a shard was cut from
    strategy: str
    workers: int
    git: GitRecord = field(default_factory=GitRecord)
    host: HostRecord = field(default_factory=HostRecord)
    stages: tuple[StageRecord, ...] = ()
    pool: PoolRecord = field(default_factory=PoolRecord)
    sla: SlaRecord = field(default_factory=SlaRecord)
    bottlenecks: tuple[Bottleneck, ...] = ()
    exit_code: int | None = None
    finished: bool = False
    shards: tuple[ShardRun, ...] = ()  # a merged run: the shards it was made of
    cache_verify: CacheVerify | None = None  # None: no would-be hit was checked
    # Why the runner itself broke (exit 5): "3 stages could not start: Too many open files
    # (EMFILE)"; None for a run whose outcome is the change's (DESIGN "A broken runner").
    runner_broken: str | None = None

    def stage(self, name: str) -> StageRecord | None:
        """The stage called `name`, if the run had one."""
        return next((stage for stage in self.stages if stage.name == name), None)


def write_record(record: RunRecord, path: Path) -> None:
    """Write atomically (model.files): readers see the old or the new file, mode 0644."""
    write_atomic(path, json.dumps(record.to_dict(), indent=2, sort_keys=False) + "\n")


def read_record(path: Path) -> RunRecord:
    """Read a saved record, naming the file and the field when it is not one."""
    try:
        data = json.loads(read_text(path))
    except OSError as exc:
        raise RecordError(f"{path}: cannot read the run record: {reason(exc)}.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not a JSON run record: {exc}.") from exc
    if not isinstance(data, dict):
        raise RecordError(f"{path}: not a run record: expected a JSON object.")
    schema = data.get("schema")
    if str(schema).strip() not in (str(SCHEMA_VERSION), f"{SCHEMA_VERSION}.0"):
        raise RecordError(f"{path}: schema: unsupported run record schema {schema!r}.")
    try:
        return record_from_data(data)
    except ValueError as exc:
        raise RecordError(f"{path}: {exc}.") from exc


def record_from_data(data: Any) -> RunRecord:
    """A run record from JSON data, validated; a ValueError names the first bad key.

    Records written by older versions, or by hand, are read as this version writes them
    (`upgraded`): reading is wide, writing is exact.
    """
    adapter, invalid = _pydantic()
    try:
        return adapter.validate_python(upgraded(data))
    except invalid as exc:
        first = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ValueError(f"{key}: {first['msg']}") from exc


def upgraded(data: Any) -> Any:
    """Older shapes of a record's JSON data in today's: `host.cpus` was the usable share of
    the machine (2.0, or 1.5 under a cgroup quota); it is now whole cores (at least 1), with
    a fractional share kept as `host.cpu_quota`; a stage without `runs` ran what its
    `command` shows. Anything else is left for validation."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("stages"), list):
        data = {**data, "stages": [_with_runs(stage) for stage in data["stages"]]}
    if not isinstance(data.get("host"), dict):
        return data
    host = dict(data["host"])
    cpus = host.get("cpus")
    if isinstance(cpus, float) and math.isfinite(cpus):
        host["cpus"] = max(1, math.floor(cpus)) if cpus > 0 else 0
        if not cpus.is_integer():
            host.setdefault("cpu_quota", cpus)
    return {**data, "host": host}


def _with_runs(stage: Any) -> Any:
    if not isinstance(stage, dict) or "runs" in stage or not isinstance(stage.get("command"), str):
        return stage
    return {**stage, "runs": runs_of_display(stage["command"])}


@functools.cache
def _pydantic() -> tuple[TypeAdapter[RunRecord], type[ValidationError]]:
    # pydantic only validates records read back from disk; a run never pays for it: this
    # module's one deferred import.
    from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415 - see the comment above

    return TypeAdapter(RunRecord), ValidationError


def wall_time_s(record: RunRecord) -> float:
    """The run's wall time: the pool's measure, else the last stage's end."""
    if record.pool.total_duration_s > 0:
        return record.pool.total_duration_s
    return max((s.start_offset_s + s.duration_s for s in record.stages), default=0.0)
