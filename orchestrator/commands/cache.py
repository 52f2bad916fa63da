"""`workflow cache list|clear|explain STAGE|audit STAGE|export FILE.tar|import FILE.tar`."""

from __future__ import annotations

import tarfile
from datetime import UTC, datetime
from pathlib import Path

import click

from orchestrator.cache.store import CacheStore
from orchestrator.cache.transfer import export_cache, import_cache
from orchestrator.commands.options import config_option, load
from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.errors import UsageError
from orchestrator.model.units import seconds, size
from orchestrator.model.writes import WriteWarnings, reason
from orchestrator.pipeline.audit import AuditResult, audit_stage
from orchestrator.pipeline.cachekeys import open_store
from orchestrator.pipeline.explain import explain_stage


def store_for(loaded: LoadedConfig) -> CacheStore:
    """The configured cache, or a usage error naming the key that turned it off."""
    store = open_store(loaded)
    if store is None:
        raise UsageError(
            f"{loaded.source}: {loaded.key_prefix}workflow.cache is empty, "
            "so the result cache is turned off."
        )
    return store


@click.group("cache")
def command() -> None:
    """The result cache: passes reused when a stage's inputs did not change."""


@command.command("list")
@config_option
def list_entries(config_path: Path | None) -> int:
    """List the stored passes, newest first."""
    store = store_for(load(config_path))
    entries = store.entries()
    for entry in entries:
        when = datetime.fromtimestamp(entry.stored_at, UTC).isoformat(timespec="seconds")
        click.echo(
            f"{entry.key[:16]}  {entry.stage}  from run {entry.run_id}  "
            f"took {seconds(entry.duration_s)}  {size(entry.size)}  stored {when}"
        )
    total = sum(entry.size for entry in entries)
    click.echo(f"{len(entries)} entries, {size(total)} in {store.root}")
    return 0


@command.command("clear")
@config_option
def clear(config_path: Path | None) -> int:
    """Remove every stored pass."""
    store = store_for(load(config_path))
    click.echo(f"removed {store.clear()} entries from {store.root}")
    return 0


@command.command("explain")
@click.argument("stage")
@config_option
def explain(stage: str, config_path: Path | None) -> int:
    """Say what changed in STAGE's key since it last passed."""
    loaded = load(config_path)
    click.echo("\n".join(explain_stage(loaded, store_for(loaded), stage)))
    return 0


@command.command("audit")
@click.argument("stage")
@config_option
def audit(stage: str, config_path: Path | None) -> int:
    """Run STAGE once, recording the files it opens; list those its key misses.

    Exits 1 when the stage read files of the repository that its key does not hold.
    """
    loaded = load(config_path)
    warnings = WriteWarnings()
    click.echo(f"audit: running {stage} once, recording the files it opens...")
    result = audit_stage(loaded, stage, warnings)
    for line in warnings.lines:
        click.echo(f"workflow: warning: {line}", err=True)
    click.echo("\n".join(audit_lines(result)))
    return 1 if result.findings is not None and result.findings.unkeyed else 0


def audit_lines(result: AuditResult) -> list[str]:
    """What `cache audit` prints: the stage's run, what it read outside its key, the
    `inputs` line that adds it, and what the audit could not see."""
    record = result.record
    lines = [
        f"{record.name}: {record.status.value} in {seconds(record.duration_s)} (log: {result.log})"
    ]
    if result.blind_reason is not None:
        unseen = f": {', '.join(result.blind)}" if result.blind else ""
        lines.append(
            f"{result.blind_reason}: only Python processes' reads were seen, not those of "
            f"other programs{unseen}"
        )
    findings = result.findings
    if findings is None:
        lines.append(f"{record.name} is never cached: {result.reason}.")
        return lines
    lines.append(f"files of the repository it read that its key holds: {findings.keyed}")
    if findings.beyond:
        shown = ", ".join(findings.beyond)
        lines.append(f"of those, outside its directory (configuration above it): {shown}")
    if not findings.unkeyed:
        lines.append("nothing is missing: every file of the repository it read is in its key.")
        return lines
    lines.append(f"read but not in its key ({len(findings.unkeyed)}):")
    lines += [f"  {u.path} ({u.why})" for u in findings.unkeyed]
    lines.append(f"add them to [stages.{record.name}] in the configuration: {result.suggestion}")
    return lines


@command.command("export")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@config_option
def export(archive: Path, config_path: Path | None) -> int:
    """Write every stored pass to ARCHIVE (a tar file)."""
    store = store_for(load(config_path))
    try:
        moved = export_cache(store, archive)
    except OSError as exc:
        raise UsageError(f"{archive}: cannot write the archive: {reason(exc)}.") from exc
    click.echo(f"exported {moved.entries} entries to {archive}")
    return 0


@command.command("import")
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
@config_option
def import_(archive: Path, config_path: Path | None) -> int:
    """Add the valid passes in ARCHIVE (a tar file) to the cache."""
    store = store_for(load(config_path))
    try:
        moved = import_cache(store, archive)
    except FileNotFoundError as exc:
        raise UsageError(f"{archive}: no such archive.") from exc
    except tarfile.TarError as exc:  # its own text can run over several lines
        raise UsageError(f"{archive}: not a tar archive (or a damaged one).") from exc
    except OSError as exc:
        raise UsageError(f"{archive}: cannot import the archive: {reason(exc)}.") from exc
    skipped = f" ({moved.skipped} damaged or foreign members skipped)" if moved.skipped else ""
    click.echo(f"imported {moved.entries} entries into {store.root}{skipped}")
    return 0
