"""Take the spans of one OTLP export in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from warroom.domain.xray.spans import Span
from warroom.services.ports.xray import TraceStore


def ingest_spans(store: TraceStore, spans: Sequence[Span], now: datetime) -> int:
    """Store ``spans`` undecided (tail sampling judges their traces later); returns how many."""
    return store.add(spans, now)
