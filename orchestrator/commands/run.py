"""`workflow run`: decide the lane, run its stages, judge the SLA, write reports."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from orchestrator.commands.options import (
    change_inputs,
    change_source_options,
    config_option,
    parse_formats,
    path_type,
)
from orchestrator.commands.progress import Progress
from orchestrator.configfile.defaults import gate_note
from orchestrator.engine.toolpath import ToolPath, resolve_executable, tool_path
from orchestrator.model.config import Lane, Strategy, Workers
from orchestrator.model.errors import ReportsDirError, UnknownStageError, UsageError
from orchestrator.model.reportformats import DEFAULT_FORMATS
from orchestrator.model.units import count
from orchestrator.pipeline.plan import Plan, PlannedStage
from orchestrator.pipeline.run import plan_masker
from orchestrator.pipeline.workflow import (
    Notice,
    RunEvent,
    RunOptions,
    RunResult,
    RunStarted,
    ShardChosen,
    StagesEnded,
    run_workflow,
)

LANE_CHOICES = ["auto", *(lane.value for lane in Lane)]


def parse_workers(value: str | None) -> Workers | None:
    """`--workers N|auto`."""
    if value is None or value == "auto":
        return value  # type: ignore[return-value]  # "auto" is the Literal
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise UsageError(f'--workers: "{value}" is not a positive integer or "auto".')
    return number


def describe_plan(plan: Plan, tools: ToolPath, cache: Mapping[str, str] | None = None) -> list[str]:
    """The plan as `--dry-run` prints it, with the PATH entries workflow adds for the stages
    and the executable each command stage resolves to; `cache` says per stage what the
    cache would do."""
    forced = " (forced)" if plan.lane_forced else ""
    lines = [f"lane: {plan.lane.value}{forced}"]
    lines += [f"  because {reason}" for reason in plan.lane_reasons]
    lines.append(f"strategy: {plan.strategy.value}, workers: {plan.workers}")
    lines.append(f"  {plan.sizing_reason}")
    lines.append(f"fail fast: {'yes' if plan.fail_fast else 'no'}; budget: {plan.budget_s:g}s")
    lines += tools.describe()
    lines.append("stages, in the order they would start:")
    base_env = tools.apply(os.environ)
    for stage in plan.stages:
        needs = f", after {', '.join(stage.needs)}" if stage.needs else ""
        critical = ", critical" if stage.critical else ""
        serial = ", serial" if stage.config.serial else ""
        if stage.config.writes:
            serial += ", writes the sources (runs alone)"
        if stage.config.uses:
            serial += f", uses {', '.join(stage.config.uses)}"
        lines.append(
            f"  {stage.number} {stage.name}: SLA {stage.target_s:g}s{critical}, "
            f"{stage.kind} ({stage.kind_source}){serial}{needs}: {stage.config.display_command}"
            f"{_executable_note(stage, base_env)}"
        )
        gate = gate_note(stage.config.run)
        if gate is not None:
            lines.append(f"    {gate}")
        if stage.split is not None:
            split = stage.split
            each = ", ".join(
                f"{split.label(i)} {split.predicted_s(i):g}s" for i in stage.parts_here
            )
            known = bool(split.files or split.tests)
            shown = f"parts (predicted): {each}" if known else "parts: no test durations yet"
            lines.append(f"    {shown}")
        if cache is not None and stage.name in cache:
            lines.append(f"    {cache[stage.name]}")
        if stage.select is not None:
            lines += [f"    {line}" for line in selection_lines(stage)]
    lines += [f"note: {note}" for note in plan.notes]
    return lines


DRY_RUN_TESTS = 50  # tests listed under a selecting stage by --dry-run


def selection_lines(stage: PlannedStage) -> list[str]:
    """What `--dry-run` says of a stage's test selection: how many known tests would
    run and why, and which."""
    select = stage.select
    if select is None:
        return []
    decision = select.decision
    if decision is None or decision.run_all is not None:
        return [f"select {select.mode.value}: {select.reason}"]
    running = len(decision.why)
    head = f"would run {running:,} of {decision.known:,} known tests, and any new ones"
    if select.mode == "shadow":
        head = f"runs every test; affected {head}"
    lines = [f"select {select.mode.value}: {head} ({decision.reason})"]
    listed = sorted(decision.why.items())
    lines += [f"  {test}: {why}" for test, why in listed[:DRY_RUN_TESTS]]
    if len(listed) > DRY_RUN_TESTS:
        lines.append(
            f"  ... and {len(listed) - DRY_RUN_TESTS:,} more "
            f"(workflow select explain {stage.name} lists them all)"
        )
    return lines


def _executable_note(stage: PlannedStage, base_env: Mapping[str, str]) -> str:
    """` (/path/to/tool)`, or why there is none, for a command stage; "" for a callable."""
    argv = stage.config.run
    if not argv:
        return ""
    own_path = " on its own env.PATH" if "PATH" in stage.config.env else ""
    found = resolve_executable(argv[0], {**base_env, **stage.config.env}, stage.cwd)
    return f" ({found}{own_path})" if found else f" (not found{own_path})"


@click.command("run")
@click.option("--lane", type=click.Choice(LANE_CHOICES), default="auto", show_default=True)
@click.option("--strategy", type=click.Choice([s.value for s in Strategy]), default=None)
@click.option(
    "--workers", default=None, metavar="N|auto", help="Worker count (default: the lane's)."
)
@click.option("--only", multiple=True, metavar="NAME", help="Run only this stage (repeatable).")
@change_source_options
@config_option
@click.option("--report-dir", type=path_type(file_okay=False), default=None)
@click.option("--format", "formats", default=DEFAULT_FORMATS, show_default=True)
@click.option("--fail-fast/--no-fail-fast", default=None, help="Stop at the first failure.")
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
@click.option("--dry-run", is_flag=True, help="Print the plan and run nothing.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Run every stage, reusing no cached result (passes are still stored).",
)
@click.option(
    "--cache-verify",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    metavar="SHARE",
    help="Run this share (0-1) of would-be cache hits anyway and compare "
    "(default: [workflow] cache_verify; 0 under the pre-push hook).",
)
@click.option(
    "--pre-push",
    is_flag=True,
    hidden=True,
    help="Read the refs being pushed from standard input (the pre-push hook does this).",
)
@click.option(
    "--select",
    "select",
    type=click.Choice(["all", "affected", "shadow"]),
    default=None,
    help="Every pytest stage's test selection for this run (all: every test).",
)
@click.option("--shard", default=None, metavar="K/N", help="Run shard K of N (shard plan).")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The shard plan JSON (`workflow shard plan --json`) that fixes --shard's stages.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show every stage's full output.")
def command(
    lane: str,
    strategy: str | None,
    workers: str | None,
    only: tuple[str, ...],
    base: str | None,
    head: str | None,
    changed_files: str | None,
    config_path: Path | None,
    report_dir: Path | None,
    formats: str,
    fail_fast: bool | None,
    no_history: bool,
    dry_run: bool,
    no_cache: bool,
    cache_verify: float | None,
    pre_push: bool,
    select: str | None,
    shard: str | None,
    plan_file: Path | None,
    verbose: bool,
) -> int:
    """Decide the lane, run its stages, judge the SLA, write reports, record history."""
    for name in only:
        if not name.strip():
            raise UsageError("--only: the stage name is empty.")
    changes = change_inputs(base, head, changed_files, pre_push=pre_push)
    options = RunOptions(
        lane=None if lane == "auto" else Lane(lane),
        strategy=Strategy(strategy) if strategy else None,
        workers=parse_workers(workers),
        only=only,
        base=changes.base,
        head=changes.head,
        changed_files=changes.changed_files,
        push_lines=changes.push_lines,
        config_path=config_path,
        report_dir=report_dir,
        formats=parse_formats(formats),
        fail_fast=fail_fast,
        history=not no_history,
        dry_run=dry_run,
        cache=not no_cache,
        cache_verify=cache_verify,
        select=select,
    )
    if plan_file is not None and shard is None:
        raise UsageError("--plan: only with --shard K/N.")
    options = options._replace(shard=shard, shard_plan_file=plan_file)
    view = LiveView(verbose=verbose)
    try:
        result = run_workflow(options, view)
    except UnknownStageError as exc:
        # A shard's stages come from the plan (its file, or the plan made again here).
        option = "--plan" if plan_file is not None else "--shard" if shard else "--only"
        raise exc.naming(option) from exc
    except ReportsDirError as exc:
        if report_dir is None:
            raise
        raise exc.naming("--report-dir") from exc
    finally:
        view.close()
    return render(result)


class LiveView:
    """`run_workflow`'s event callback: the header line, then the live progress."""

    def __init__(self, *, verbose: bool) -> None:
        self.verbose = verbose
        self.progress: Progress | None = None

    def __call__(self, event: RunEvent) -> None:
        """Show one event of the run."""
        if isinstance(event, Notice):
            kind = "warning: " if event.warning else ""
            click.echo(f"workflow: {kind}{event.text}", err=True)
        elif isinstance(event, ShardChosen):
            if not event.stages:
                click.echo(f"workflow: shard {event.shard} has no stages to run")
        elif isinstance(event, RunStarted):
            plan = event.plan
            click.echo(
                f"workflow: {plan.lane.value} lane, {count(len(plan.stages), 'stage')}, "
                f"{plan.strategy.value} strategy, {count(plan.workers, 'worker')}"
            )
            for note in plan.notes:  # why a stage runs that the lane did not name
                click.echo(f"note: {note}")
            self.progress = Progress(event, os.environ, verbose=self.verbose)
        elif isinstance(event, StagesEnded):
            self.close()
        elif self.progress is not None:
            self.progress(event)

    def close(self) -> None:
        """End the live display, if one is showing."""
        if self.progress is not None:
            self.progress.close()
            self.progress = None


def render(result: RunResult) -> int:
    """Print what the run decided (nothing to check, the plan, or the summary); its code.

    Every destination that could not be written is one warning line at the end; none of
    them changes the exit code or skips what comes after. A push of several commits shows
    each commit's run in turn, and exits with the worst code.
    """
    for commit in result.commits:
        render(commit)
    if result.commits:
        return result.exit_code
    if result.plan is None:
        click.echo("workflow: nothing to check")
        if result.start is not None:  # a shard of a plan with nothing to check: its record
            click.echo(f"reports: {result.start.run_dir}")
        else:
            click.echo("\n".join(f"  because {reason}" for reason in result.reasons))
        return result.exit_code
    if result.record is None or result.start is None:
        lines = describe_plan(result.plan, tool_path(), result.cache_preview)
        click.echo(plan_masker(result.plan).mask("\n".join(lines)))
        return result.exit_code
    start = result.start
    # The reports package is loaded by now (the run wrote its reports with it).
    from reports import print_run_summary, publish_github  # noqa: PLC0415 - loaded by the run

    print_run_summary(result.record, start.masker)
    publish_github(
        result.record,
        start.run_dir,
        os.environ,
        click.echo,
        start.masker,
        failed_writes=start.warnings,
    )
    for warning in start.warnings.lines:
        click.echo(f"workflow: warning: {warning}", err=True)
    click.echo(f"reports: {start.run_dir}")
    if result.record.runner_broken:
        # DESIGN "A broken runner": one line, so CI can retry the job elsewhere.
        click.echo(f"workflow: runner broken: {result.record.runner_broken}", err=True)
    return result.exit_code
