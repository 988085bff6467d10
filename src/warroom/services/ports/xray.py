"""The X-ray's windows on traces: any trace source (the embedded store, Jaeger, Tempo),
and the embedded store's writes (ingest, tail sampling, retention)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from warroom.domain.xray.sampling import TraceSummary
from warroom.domain.xray.spans import Span


class TracesUnavailable(Exception):
    """The trace source gave no usable answer (down, slow, refusing); one line for a person."""


class TraceSource(Protocol):
    @property
    def name(self) -> str:
        """What the source is, for the room (``embedded``, ``jaeger http://...``)."""
        ...

    def spans(
        self, services: Sequence[str], start: datetime, end: datetime, *, timeout: float, limit: int
    ) -> list[Span]:
        """Every span of the traces that touch ``services`` (all, when empty) between
        ``start`` and ``end``, at most ``limit`` spans; within ``timeout`` seconds or
        :class:`TracesUnavailable`."""
        ...


class TraceStore(TraceSource, Protocol):
    def add(self, spans: Sequence[Span], received: datetime) -> int:
        """Store ``spans`` (undecided) in one transaction; returns how many."""
        ...

    def pending(self, before: datetime, limit: int) -> list[TraceSummary]:
        """Undecided traces whose spans all arrived before ``before``."""
        ...

    def keep(self, weights: Mapping[str, float]) -> None:
        """Mark these traces kept, each with its weight."""
        ...

    def drop(self, trace_ids: Sequence[str]) -> int:
        """Delete the undecided spans of these traces; returns how many."""
        ...

    def prune(self, before: datetime) -> int:
        """Delete every span received before ``before`` (retention); returns how many."""
        ...

    def count(self) -> int: ...
