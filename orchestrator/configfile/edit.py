"""Edit the configuration file in place: set SLA targets, keeping comments and layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from orchestrator.configfile.load import LoadedConfig
from orchestrator.model.errors import ConfigError, UsageError
from orchestrator.model.files import KEEP, write_atomic
from orchestrator.model.textinput import read_styled


def write_targets(loaded: LoadedConfig, lane: str, targets: dict[str, float]) -> Path:
    """Set `lanes.<lane>.sla.<stage>` in the configuration file, keeping comments and layout."""
    path = loaded.path
    if path is None:
        raise UsageError("there is no workflow.toml to update (built-in defaults).")
    try:
        text, style = read_styled(path)
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError, TOMLKitError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}.") from exc
    table: Any = document
    for part in [p for p in loaded.key_prefix.split(".") if p]:
        table = table[part]
    if "lanes" not in table:
        table["lanes"] = tomlkit.table(is_super_table=True)
    if lane not in table["lanes"]:
        table["lanes"][lane] = tomlkit.table()
    if "sla" not in table["lanes"][lane]:
        table["lanes"][lane]["sla"] = tomlkit.inline_table()
    overrides = table["lanes"][lane]["sla"]
    for name, seconds in targets.items():
        overrides[name] = int(seconds) if float(seconds).is_integer() else seconds
    write_atomic(path, style.encode(tomlkit.dumps(document)), KEEP)  # its BOM and line ends
    return path
