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

from warroom.domain.shared.timefmt import from_iso, iso

T = TypeVar("T")

# Snapshots of long incidents hold thousands of entries: both directions look the shape
# of each class (and each annotation) up once, not once per object.
_PLAIN = frozenset({str, int, float, bool, type(None)})


@cache
def _field_names(cls: Any) -> tuple[str, ...] | None:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


def to_data(value: Any) -> Any:
    cls: Any = type(value)
    if cls in _PLAIN:
        return value
    names = _field_names(cls)
    if names is not None:
        return {name: to_data(getattr(value, name)) for name in names}
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
    hint: Any = cls
    return typing.cast(T, _converter(hint)(data))


Convert = typing.Callable[[Any], Any]


def _identity(data: Any) -> Any:
    return data


@cache
def _converter(hint: Any) -> Convert:
    """A function that rebuilds plain data into ``hint`` (None stays None at every level)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _converter(options[0])
    if origin is list:
        (item_hint,) = typing.get_args(hint)
        item = _converter(item_hint)
        return lambda data: None if data is None else [item(value) for value in data]
    if origin is tuple:
        first = _converter(typing.get_args(hint)[0])
        return lambda data: None if data is None else tuple(first(value) for value in data)
    if origin is dict:
        value_of = _converter(typing.get_args(hint)[1])
        return lambda data: None if data is None else {key: value_of(v) for key, v in data.items()}
    if isinstance(hint, type):
        return _type_converter(hint)
    return _identity


def _type_converter(hint: type) -> Convert:
    if dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        fields = [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(hint)]

        def build(data: Any) -> Any:
            if data is None:
                return None
            return hint(**{name: convert(data[name]) for name, convert in fields if name in data})

        return build
    if issubclass(hint, IntEnum):
        return lambda data: None if data is None else (hint[data] if isinstance(data, str) else hint(data))
    if issubclass(hint, Enum):
        return lambda data: None if data is None else hint(data)
    if hint is datetime:
        return lambda data: None if data is None else from_iso(data)
    if hint is float:
        return lambda data: float(data) if isinstance(data, int) and not isinstance(data, bool) else data
    return _identity
