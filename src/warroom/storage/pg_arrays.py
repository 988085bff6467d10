"""PostgreSQL's binary array format (what ``array_send`` writes), for the hot inserts.

psycopg's own list dumper walks a list in Python and asks for each element's dumper as it
goes: for a storm's bodies, encoding the insert's column arrays that way cost more than
building the rows. :func:`binary_array` writes the same bytes (the tests compare them with
psycopg's, and read them back through PostgreSQL) for the element types the alert inserts
send; a body's alerts share their times, so each distinct one is encoded once per array,
and a column whose values are all alike (a body's source, status, group key, stamps) is
one element repeated.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.abc import Buffer, DumperKey
from psycopg.adapt import Dumper, PyFormat
from psycopg.pq import Format

from warroom.storage.times import remembered

# dimensions (1), whether any element is NULL, the element type; then the one dimension's
# length and lower bound (1)
_HEADER = struct.Struct(">iiIii")
_NULL = b"\xff\xff\xff\xff"  # an element's length -1
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # PostgreSQL counts microseconds from here
_MICROSECOND = timedelta(microseconds=1)
_EIGHT = (8).to_bytes(4, "big")


def _boolean(value: bool) -> bytes:
    return b"\x00\x00\x00\x01\x01" if value else b"\x00\x00\x00\x01\x00"


def _bigint(value: int) -> bytes:
    return _EIGHT + value.to_bytes(8, "big", signed=True)


def _timestamptz(value: datetime) -> bytes:
    if value.tzinfo is None:  # would be read in the session's time zone: refuse, as stored_utc does
        raise ValueError(f"a naive time cannot be stored: {value!r}")
    return _EIGHT + ((value - _EPOCH) // _MICROSECOND).to_bytes(8, "big", signed=True)


# element type: (its oid, the array type's oid)
_TEXT = (25, 1009)
# element type: (its encoder, its oid, the array type's oid)
_TYPES: dict[str, tuple[Callable[[Any], bytes], int, int]] = {
    "boolean": (_boolean, 16, 1000),
    "bigint": (_bigint, 20, 1016),
    "timestamptz": (_timestamptz, 1184, 1185),
}


class Encoded:
    """A parameter already in PostgreSQL's binary form, with its type's oid: psycopg sends
    it as it is (through :class:`_EncodedDumper`)."""

    __slots__ = ("data", "oid")

    def __init__(self, data: Buffer, oid: int) -> None:
        self.data = data
        self.oid = oid


class _EncodedDumper(Dumper):
    """Sends an :class:`Encoded` as it is, typed by its own oid (psycopg asks
    :meth:`get_key` and :meth:`upgrade` for a dumper per oid)."""

    format = Format.BINARY

    def get_key(self, obj: Any, format: PyFormat) -> DumperKey:
        return (Encoded, obj.oid)

    def upgrade(self, obj: Any, format: PyFormat) -> Dumper:
        dumper = _EncodedDumper(Encoded)
        dumper.oid = obj.oid
        return dumper

    def dump(self, obj: Any) -> Buffer:
        return obj.data  # type: ignore[no-any-return]


psycopg.adapters.register_dumper(Encoded, _EncodedDumper)


def binary_array(kind: str, values: Sequence[Any]) -> Encoded:
    """``values`` (None for NULL) as a one-dimensional ``kind[]`` in PostgreSQL's binary
    format. ``kind`` is one of text, boolean, bigint, timestamptz."""
    element, array = _TEXT if kind == "text" else _TYPES[kind][1:]
    if values and _all_alike(values):  # a body's source, status, group key, times...
        data, nulls = _elements(kind, values[:1])
        data *= len(values)
    else:
        data, nulls = _elements(kind, values)
    return Encoded(_HEADER.pack(1, nulls, element, len(values), 1) + data, array)


def _all_alike(values: Sequence[Any]) -> bool:
    """Whether every value equals the first, so one encoding serves all. An equal time is
    the same instant only in UTC: elsewhere a time in a repeated wall-clock hour equals
    its twin an hour earlier (fold), so times in other zones are encoded one by one."""
    first = values[0]
    if isinstance(first, datetime) and first.tzinfo is not UTC:
        return False
    # the last one first: a column of distinct values (fingerprints, labels) is not counted
    return values[-1] == first and values.count(first) == len(values)


def _elements(kind: str, values: Sequence[Any]) -> tuple[bytes, int]:
    """The elements of ``values`` in turn (each its length and data, NULL's length for
    None), and 1 if any is NULL."""
    nulls = 0
    parts = []
    if kind == "text":  # mostly distinct (fingerprints, labels): a memo would cost more than it saves
        for value in values:
            if value is None:
                parts.append(_NULL)
                nulls = 1
            else:
                data = value.encode()
                parts.append(len(data).to_bytes(4, "big"))
                parts.append(data)
    else:  # times and flags repeat: each distinct one encoded once
        encode = remembered(_TYPES[kind][0])
        for value in values:
            if value is None:
                parts.append(_NULL)
                nulls = 1
            else:
                parts.append(encode(value))
    return b"".join(parts), nulls
