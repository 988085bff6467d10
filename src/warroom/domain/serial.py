"""Plain-data round trips for the domain's dataclasses (state snapshots, views).

``to_data`` turns a dataclass tree into JSON-ready values (times as ISO text, enums as
their values); ``from_data`` rebuilds it from the annotations. Only the shapes the domain
uses are supported: dataclasses, lists, tuples, dicts with str keys, optionals, enums,
datetimes and JSON scalars.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum, IntEnum
from functools import cache
from typing import Any, TypeVar

from warroom.domain.timefmt import from_iso, iso

T = TypeVar("T")


def to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, IntEnum):
        return value.name  # Severity.SEV2 reads as "SEV2", not 2
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list | tuple):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_data(item) for key, item in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_data(cls: type[T], data: Any) -> T:
    return typing.cast(T, _build(cls, data))


def _build(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _build(options[0], data)
    if origin is list:
        (item,) = typing.get_args(hint)
        return [_build(item, value) for value in data]
    if origin is tuple:
        args = typing.get_args(hint)
        return tuple(_build(args[0], value) for value in data)
    if origin is dict:
        _, item = typing.get_args(hint)
        return {key: _build(item, value) for key, value in data.items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            hints = _hints(hint)
            kwargs = {
                f.name: _build(hints[f.name], data[f.name])
                for f in dataclasses.fields(hint)
                if f.name in data
            }
            return hint(**kwargs)
        if issubclass(hint, IntEnum) and isinstance(data, str):
            return hint[data]
        if issubclass(hint, Enum):
            return hint(data)
        if hint is datetime:
            return from_iso(data)
        if hint is float and isinstance(data, int):
            return float(data)
    return data
