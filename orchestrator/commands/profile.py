"""`workflow profile`: run stages repeatedly, then advise on strategy and SLA targets."""

from __future__ import annotations

from pathlib import Path

import click

from orchestrator.commands.options import config_option, load
from orchestrator.configfile.edit import write_targets
from orchestrator.engine.scheduling.sizing import read_machine
from orchestrator.model.config import Lane, Strategy
from orchestrator.model.errors import ConfigError, ExitCode, UnknownStageError, UsageError
from orchestrator.model.units import aligned, count, percent, seconds, size
from orchestrator.model.writes import WriteWarnings
from orchestrator.pipeline.plan import PlanOptions, build_plan
from orchestrator.pipeline.profile import (
    RoundEvent,
    StageProfileReport,
    lane_strategy,
    profile_log_dir,
    run_rounds,
    summarise,
)

COLUMNS: tuple[str, ...] = (
    "STAGE",
    "PASSED",
    "MEAN",
    "SPREAD",
    "P95",
    "CPU",
    "PEAK MEM",
    "BOUND",
    "EXECUTOR",
    "PARALLEL",
    "SLA",
    "SUGGESTED",
)


def fine(value: float) -> str:
    """Durations with the precision a short stage needs ("0.42s")."""
    return seconds(value, digits=2)


def show_progress(event: RoundEvent) -> None:
    """One line per stage run, so a long profile shows it is alive."""
    record = event.stage.record
    if event.stage.kind != "end" or record is None:
        return
    click.echo(
        f"[{event.round}/{event.rounds}] {record.name}: {record.status.value} "
        f"in {fine(record.duration_s)}"
    )


def table(reports: list[StageProfileReport]) -> list[str]:
    """Aligned columns, one stage per line."""
    rows = [COLUMNS] + [
        (
            r.name,
            f"{r.passed}/{r.runs}",
            fine(r.mean_s),
            f"±{fine(r.stdev_s)}",
            fine(r.p95_s),
            percent(r.cpu_percent),
            size(r.peak_rss_bytes),
            r.bound,
            r.strategy,
            "yes" if r.parallel else "no",
            f"{r.target_s:g}s",
            "-" if r.suggested_s is None else f"{r.suggested_s:g}s",
        )
        for r in reports
    ]
    return aligned(rows)


@click.command("profile")
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    metavar="N",
    help="How many times each stage runs.",
)
@click.option("--only", multiple=True, metavar="NAME", help="Profile only this stage (repeatable).")
@click.option(
    "--lane",
    type=click.Choice([lane.value for lane in Lane]),
    default="heavy",
    show_default=True,
    help="The lane whose stages and SLA targets are profiled.",
)
@click.option(
    "--write", is_flag=True, help="Write the suggested targets into the lane's sla table."
)
@config_option
def command(
    iterations: int, only: tuple[str, ...], lane: str, write: bool, config_path: Path | None
) -> int:
    """Run each stage N times, one at a time; report its figures, strategy and SLA target."""
    if any(not name.strip() for name in only):
        raise UsageError("--only: the stage name is empty.")
    loaded = load(config_path)
    machine = read_machine()
    options = PlanOptions(lane=Lane(lane), only=only, strategy=Strategy.SEQUENTIAL, workers=1)
    try:
        plan = build_plan(loaded, options, machine)
    except UnknownStageError as exc:
        raise exc.naming("--only") from exc
    log_dir = profile_log_dir(loaded)
    if loaded.path is None:
        click.echo(f"workflow: configuration: {loaded.source}")
    click.echo(
        f"workflow: profiling {len(plan.stages)} stages of the {lane} lane, {iterations} "
        f"times each, one at a time ({plan.usable_cpus:g} usable cores)"
    )
    unwritten = WriteWarnings()
    results = run_rounds(loaded, plan, iterations, show_progress, unwritten)
    reports = [summarise(stage.name, results[stage.name], plan) for stage in plan.stages]
    click.echo("\n".join(["", *table(reports), ""]))
    for report in reports:
        worth = "worth" if report.parallel else "not worth"
        click.echo(f"{report.name}: {worth} parallelising: {report.parallel_reason}")
        if report.error is not None:
            failed = report.runs - report.passed
            click.echo(
                f"{report.name}: {count(failed, 'run')} did not pass ({report.error}); "
                f"logs: {log_dir}"
            )
    strategy, reason = lane_strategy(reports, plan.usable_cpus)
    click.echo(f"recommended strategy for the {lane} lane: {strategy} ({reason})")
    if write:
        targets = {r.name: r.suggested_s for r in reports if r.suggested_s is not None}
        if targets:
            with unwritten.guard("configuration", loaded.path or "workflow.toml"):
                try:
                    path = write_targets(loaded, lane, targets)
                except (UsageError, ConfigError) as exc:
                    raise exc.naming("--write") from exc
                written = ", ".join(f"{name} = {value:g}" for name, value in targets.items())
                click.echo(f"updated {path}: lanes.{lane}.sla: {written}")
        else:
            click.echo("nothing written: no stage passed every run", err=True)
    for line in unwritten.lines:
        click.echo(f"workflow: warning: {line}", err=True)
    failed = any(r.passed < r.runs for r in reports)
    return int(ExitCode.STAGE_FAILED if failed else ExitCode.OK)
