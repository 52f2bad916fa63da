"""`workflow run`: decide the lane, run its stages, judge the SLA, write reports."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

from orchestrator.commands.options import change_source_options, config_option, load
from orchestrator.commands.progress import Progress
from orchestrator.configfile.load import LoadedConfig
from orchestrator.engine.host import host_record
from orchestrator.engine.sizing import read_machine
from orchestrator.history.profiles import StageProfile, profiles_from_reports
from orchestrator.model.config import Lane, Strategy, Workers
from orchestrator.model.errors import UsageError
from orchestrator.model.status import GitRecord
from orchestrator.pipeline.plan import Plan, PlanOptions, build_plan
from orchestrator.pipeline.run import RunRequest, RunStart, execute_run, plan_masker, start_run

LANE_CHOICES = ["auto", *(lane.value for lane in Lane)]
FORMATS = ("html", "md", "json", "junit")


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


def parse_formats(value: str) -> tuple[str, ...]:
    """`--format html,md,json,junit`."""
    names = tuple(part.strip() for part in value.split(",") if part.strip())
    bad = [name for name in names if name not in FORMATS]
    if bad or not names:
        raise UsageError(
            f"--format: unknown format {', '.join(bad) or '(none)'}; "
            f"choose from {', '.join(FORMATS)}."
        )
    return names


def describe_plan(plan: Plan) -> list[str]:
    """The plan as `--dry-run` prints it."""
    forced = " (forced)" if plan.lane_forced else ""
    lines = [f"lane: {plan.lane.value}{forced}"]
    lines += [f"  because {reason}" for reason in plan.lane_reasons]
    lines.append(f"strategy: {plan.strategy.value}, workers: {plan.workers}")
    lines.append(f"  {plan.sizing_reason}")
    lines.append(f"fail fast: {'yes' if plan.fail_fast else 'no'}; budget: {plan.budget_s:g}s")
    lines.append("stages, in the order they would start:")
    for stage in plan.stages:
        needs = f", after {', '.join(stage.needs)}" if stage.needs else ""
        critical = ", critical" if stage.critical else ""
        serial = ", serial" if stage.config.serial else ""
        lines.append(
            f"  {stage.number} {stage.name}: SLA {stage.target_s:g}s{critical}, "
            f"{stage.kind} ({stage.kind_source}){serial}{needs}: {stage.config.display_command}"
        )
    lines += [f"note: {note}" for note in plan.notes]
    return lines


@click.command("run")
@click.option("--lane", type=click.Choice(LANE_CHOICES), default="auto", show_default=True)
@click.option("--strategy", type=click.Choice([s.value for s in Strategy]), default=None)
@click.option(
    "--workers", default=None, metavar="N|auto", help="Worker count (default: the lane's)."
)
@click.option("--only", multiple=True, metavar="NAME", help="Run only this stage (repeatable).")
@change_source_options
@config_option
@click.option("--report-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--format", "formats", default="html,md,json,junit", show_default=True)
@click.option("--fail-fast/--no-fail-fast", default=None, help="Stop at the first failure.")
@click.option("--no-history", is_flag=True, help="Do not record this run in the history.")
@click.option("--dry-run", is_flag=True, help="Print the plan and run nothing.")
@click.option(
    "--pre-push",
    is_flag=True,
    hidden=True,
    help="Read the refs being pushed from standard input (the pre-push hook does this).",
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
    pre_push: bool,
    verbose: bool,
) -> int:
    """Decide the lane, run its stages, judge the SLA, write reports, record history."""
    for name in only:
        if not name.strip():
            raise UsageError("--only: the stage name is empty.")
    wanted_formats = parse_formats(formats)
    loaded = load(config_path)
    decision = None
    if lane == "auto":
        from lanes.decide import decide_from_options  # noqa: PLC0415 - start-up time

        decision = decide_from_options(
            loaded.root,
            loaded.config.detect,
            base=base,
            head=head,
            changed_files=changed_files,
            pre_push=pre_push,
        )
        if decision.lane is None:
            click.echo("workflow: nothing to check")
            click.echo("\n".join(f"  because {reason}" for reason in decision.reasons))
            return 0
    options = PlanOptions(
        lane=decision.lane if decision is not None and decision.lane else Lane(lane),
        lane_reasons=decision.reasons if decision is not None else ("forced by --lane",),
        lane_forced=decision is None,
        strategy=Strategy(strategy) if strategy else None,
        workers=parse_workers(workers),
        only=only,
        fail_fast=fail_fast,
    )
    machine = read_machine()
    report_root = (
        report_dir if report_dir is not None else loaded.resolve(loaded.config.workflow.reports)
    )
    host = host_record(machine)
    history = None if no_history else loaded.history_file
    profiles: dict[str, StageProfile] = {}
    if history is not None:
        from orchestrator.history.store import profiles_safely  # noqa: PLC0415 - sqlite3 if used

        profiles = profiles_safely(history, options.lane.value, host.runner_class, _warn)
    plan = build_plan(
        loaded, options, machine, profiles or profiles_from_reports(report_root, options.lane.value)
    )
    if dry_run:
        click.echo(plan_masker(plan).mask("\n".join(describe_plan(plan))))
        return 0
    changes_base = decision.base if decision else base
    request = RunRequest(
        loaded=loaded,
        plan=plan,
        report_dir=report_root,
        git=lambda: git_identity(loaded, head, changes_base),
        host=host,
    )
    try:
        start = start_run(request)
    except UsageError as exc:
        if report_dir is None:
            raise
        raise UsageError(f"--report-dir: {exc.message}") from exc
    return run_and_report(request, start, wanted_formats, verbose=verbose, history=history)


def _warn(line: str) -> None:
    click.echo(f"workflow: warning: {line}", err=True)


def git_identity(loaded: LoadedConfig, head: str | None, base: str | None) -> GitRecord:
    """The commit the run checks; asked of git while the first stages already run."""
    from lanes.git import GitError, head_identity  # noqa: PLC0415 - see above

    try:
        sha, branch = head_identity(loaded.root, head)
    except GitError:  # no git at all: the record simply names no commit
        return GitRecord(base=base)
    return GitRecord(sha=sha, branch=branch, base=base)


def run_and_report(
    request: RunRequest,
    start: RunStart,
    formats: tuple[str, ...],
    *,
    verbose: bool,
    history: Path | None = None,
) -> int:
    """Run the stages with live progress, judge and report, and say where the files are.

    Every destination that could not be written is one warning line at the end; none of
    them changes the exit code or skips what comes after.
    """
    plan = request.plan
    click.echo(
        f"workflow: {plan.lane.value} lane, {len(plan.stages)} stages, "
        f"{plan.strategy.value} strategy, {plan.workers} workers"
    )
    progress = Progress(plan, start.run_dir, start.masker, os.environ, verbose=verbose)
    try:
        # The reporting code (jinja2 and the compiled report template) loads while the
        # stages run: not before them, and not after.
        record = execute_run(request, start, progress, while_running=_import_finishing)
    finally:
        progress.close()
    from orchestrator.pipeline.finish import finish_run  # noqa: PLC0415 - loaded during the run
    from reports import print_run_summary, publish_github  # noqa: PLC0415

    finished = finish_run(request, start, record, formats)
    print_run_summary(finished.record, start.masker)
    publish_github(
        finished.record,
        start.run_dir,
        os.environ,
        click.echo,
        start.masker,
        failed_writes=start.warnings,
    )
    if history is not None:
        from orchestrator.history.store import record_safely  # noqa: PLC0415

        unrecorded = record_safely(history, finished.record, on_wait=_say)
        if unrecorded is not None:
            start.warnings.note(unrecorded)
    for warning in start.warnings.lines:
        _warn(warning)
    click.echo(f"reports: {start.run_dir}")
    return finished.record.exit_code or 0


def _say(line: str) -> None:
    click.echo(f"workflow: {line}", err=True)


def _import_finishing() -> None:
    importlib.import_module("orchestrator.pipeline.finish")
    from reports.html import prepare  # noqa: PLC0415 - this thread's whole job

    prepare()
