"""Turning record parts and configuration values into JSON-ready data.

Its own module, free of the record types, because the result cache's key (computed
before the first stage starts) needs it, while the record module loads only once the
stages run.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any


def to_data(value: Any) -> Any:
    """The JSON-ready form of a record or any part of it: dicts, lists and plain values.

    Dataclass instances become dicts of their fields, lists and tuples lists, dict keys
    text, enums their value; anything else is returned as it is.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_data(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
