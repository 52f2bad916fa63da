"""Printing the figures: per workload, per round, per stage, the summary and start-up."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench.model import Context, Engine, Measurements, Summary, WorkflowSample, median, runner_row
from bench.runners import measure


# -- printing ----------------------------------------------------------------------------------
def print_workload(summary: Summary, data: Measurements, ctx: Context) -> None:
    """The per-workload tables: runners, the engines' own figures, stages and schedules."""
    labels = {"sequential": "sequential (sh)", "make": "make -j5"}
    labels |= {e.key: e.label for e in ctx.engines}
    print(f"\n{summary.title}: medians of {ctx.runs} runs, wall (min..max) and CPU of the tree")
    for runner, label in labels.items():
        spread = summary.spread[runner]
        print(runner_row(label, 20, summary.wall[runner], spread, summary.cpu[runner]))
    print(f"  {'lower bound':<20} {summary.lower_bound_s:8.3f} s  {_bound_note(summary, ctx)}")
    print_rounds(summary, data)
    for key, figures in summary.engines.items():
        print(
            f"  {labels[key]}: pool total_duration_s {figures.pool_s:.3f} s, outside the pool "
            f"{figures.outside_pool_s:.3f} s; own CPU (wait4 total - stages' cpu_seconds) "
            f"{figures.own_cpu_s:.3f} s, of which monitor {figures.monitor_cpu_s:.3f} s"
        )
    print_stages(summary, data, ctx)
    for failure in summary.failures:
        print(f"  FAILURE: {failure}")


def print_rounds(summary: Summary, data: Measurements) -> None:
    """Each round's own lower bound and every runner's wall over it.

    The machine is shared: its speed drifts by tens of percent within minutes, so a runner
    is compared with the bound measured in the same round (paired), not only with medians
    taken at other moments.
    """
    runners = list(data.runners)
    print("  each round, wall / that round's lower bound (each stage alone, same round):")
    for index, bound in enumerate(summary.round_bounds):
        cells = ", ".join(
            f"{r} {data.runners[r][index].wall_s / bound:.2f}"
            for r in runners
            if index < len(data.runners[r]) and bound > 0
        )
        print(f"    round {index + 1}: bound {bound:.3f} s; {cells}")
    medians = ", ".join(f"{r} {summary.paired[r]:.2f}" for r in runners)
    print(f"    median of the rounds' ratios: {medians}")
    for key, samples in data.workflow.items():
        print_longest(key, samples, data)


def print_longest(key: str, samples: list[WorkflowSample], data: Measurements) -> None:
    """How the engine treated each round's longest stage, which alone sets the lower bound.

    When it starts at once, ends last and takes no more CPU seconds than alone, the run can
    reach the bound; CPU seconds above its own alone means the machine ran the same work
    slower while the other cores were busy, which no schedule can avoid.
    """
    starts, tails, inflation = [], [], []
    for index, sample in enumerate(samples):
        alone = {name: runs[index] for name, runs in data.alone.items() if index < len(runs)}
        if not alone:
            continue
        longest = max(alone, key=lambda name: alone[name].wall_s)
        stage = next((s for s in sample.stages if s.get("name") == longest), None)
        if stage is None or alone[longest].cpu_s <= 0:
            continue
        start = float(stage.get("start_offset_s", 0.0))
        end = start + float(stage.get("duration_s", 0.0))
        starts.append(start)
        tails.append(sample.pool_s - end)
        inflation.append(float(stage.get("cpu_seconds", 0.0)) / alone[longest].cpu_s)
    if starts:
        print(
            f"  {key}: the longest stage started at {median(starts):.2f} s, the pool ended "
            f"{median(tails):.2f} s after it, and it took {median(inflation):.2f} x its own "
            "CPU seconds alone (medians over rounds)"
        )


def print_stages(summary: Summary, data: Measurements, ctx: Context) -> None:
    """Each stage alone, and where each engine's last run placed it (kind, start, length,
    CPU seconds, niceness)."""
    head = "  stage       alone wall   alone cpu   cpu%"
    for engine in ctx.engines:
        head += f" | {engine.key + ': kind  start   dur    cpu nice':<40}"
    print(head + "   (engines: their last run)")
    last = {
        key: {str(s.get("name")): s for s in samples[-1].stages}
        for key, samples in data.workflow.items()
        if samples
    }
    for name, wall in summary.alone_wall.items():
        cpu = summary.alone_cpu[name]
        line = f"  {name:<10} {wall:9.3f} s {cpu:9.3f} s {100 * cpu / wall if wall else 0:6.0f}"
        for engine in ctx.engines:
            record = last.get(engine.key, {}).get(name, {})
            start = float(record.get("start_offset_s", 0.0))
            length = float(record.get("duration_s", 0.0))
            line += f" | {' ' * len(engine.key)}  {record.get('kind', '?')!s:<4}"
            cpu = float(record.get("cpu_seconds", 0.0))
            line += f"{start:6.2f}s{length:6.2f}s{cpu:6.2f}s {int(record.get('nice', 0)):4d}"
        print(line)


def _bound_note(summary: Summary, ctx: Context) -> str:
    longest = max(summary.alone_wall.values())
    cpu = sum(summary.alone_cpu.values())
    return f"= max(longest alone {longest:.3f} s, cpu {cpu:.3f} s / {ctx.cores} cores)"


def print_summary(summaries: list[Summary], ctx: Context) -> None:
    """One line per workload and engine (median walls in seconds, ratios), then targets."""
    print(f"\n== summary: median wall (s) of {ctx.runs} runs on {ctx.cores} usable cores ==")
    print(
        f"{'workload':<16}{'engine':<10}{'seq':>8}{'make':>8}{'workflow':>9}{'(pool)':>8}"
        f"{'bound':>8}{'wf/make':>9}{'wf/seq':>8}{'wf/bound':>9}{'pool/bound':>11}"
        f"{'paired':>8}"
    )
    for s in summaries:
        for key, figures in s.engines.items():
            pool_ratio = figures.pool_s / s.lower_bound_s if s.lower_bound_s > 0 else float("inf")
            print(
                f"{s.title[:15]:<16}{key:<10}{s.wall['sequential']:8.3f}{s.wall['make']:8.3f}"
                f"{s.wall[key]:9.3f}{figures.pool_s:8.3f}{s.lower_bound_s:8.3f}"
                f"{s.ratio(key, 'make'):9.2f}{s.ratio(key, 'sequential'):8.2f}"
                f"{s.ratio(key, 'bound'):9.2f}{pool_ratio:11.2f}{s.paired[key]:8.2f}"
            )
    print("(paired: median over rounds of wall / the lower bound measured in the same round)")
    print("targets:")
    for s in summaries:
        for key in s.engines:
            text, met = s.target(key)
            print(f"  {s.title:<16}{key:<10}{'met    ' if met else 'NOT MET'}  {text}")
        if s.failures:
            print(f"  {s.title:<16}runs FAILED: {'; '.join(s.failures)}")


def print_startup(ctx: Context) -> dict[str, dict[str, float]]:
    """Print and return what starting each engine costs before any stage runs."""
    costs = {engine.key: startup_costs(engine, ctx.runs + 2) for engine in ctx.engines}
    print(f"\nstart-up, medians of {ctx.runs + 2} (compare with 'outside the pool'):")
    for key, walls in costs.items():
        for name, wall in walls.items():
            print(f"  {key:<10}{name:<46} {wall:.3f} s")
    return costs


def startup_costs(engine: Engine, repeats: int) -> dict[str, float]:
    """Median wall of starting Python, importing the CLI and `workflow --version`."""
    python = sys.executable
    commands = {
        "python -c pass": (python, "-c", "pass"),
        "python -c 'import orchestrator.cli'": (python, "-c", "import orchestrator.cli"),
        "python -c 'import orchestrator.commands.run'": (
            python,
            "-c",
            "import orchestrator.commands.run",
        ),
        "workflow --version": (*engine.argv, "--version"),
    }
    costs: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="wfbench-startup-") as scratch:
        log = Path(scratch) / "out"
        for name, argv in commands.items():
            walls = [measure(argv, Path(scratch), engine.env, log).wall_s for _ in range(repeats)]
            costs[name] = median(walls)
    return costs
