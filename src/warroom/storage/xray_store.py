"""The embedded trace store: spans in ``xray_spans`` on warroom's own database.

Each call is its own short transaction on the engine (traces are not incident events: they
never join an incident's unit of work). Writes are one multi-row insert per request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from warroom.domain.xray.sampling import TraceSummary
from warroom.domain.xray.spans import Span
from warroom.services.ports.xray import TracesUnavailable
from warroom.storage.xray_tables import xray_spans as t

CHUNK = 500
FIELDS = (
    "trace_id", "span_id", "parent_id", "service", "operation", "kind", "start_us", "duration_us",
    "error", "peer", "http_status", "grpc_status", "resend", "message", "weight",
)  # fmt: skip


def micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


class SqlTraceStore:
    name = "embedded"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, spans: Sequence[Span], received: datetime) -> int:
        if not spans:
            return 0
        at = micros(received)
        rows = [
            {
                "trace_id": s.trace_id, "span_id": s.span_id, "parent_id": s.parent_id, "service": s.service,
                "operation": s.operation, "kind": s.kind, "start_us": s.start_us, "duration_us": s.duration_us,
                "error": s.error, "peer": s.peer, "http_status": s.http_status, "grpc_status": s.grpc_status,
                "resend": s.resend, "message": s.message, "weight": s.weight, "decided": False,
                "received_us": at,
            }
            for s in spans
        ]  # fmt: skip
        with self._engine.begin() as conn:
            conn.execute(t.insert(), rows)
        return len(rows)

    def spans(
        self, services: Sequence[str], start: datetime, end: datetime, *, timeout: float, limit: int
    ) -> list[Span]:
        lo, hi = micros(start), micros(end)
        columns = [t.c[name] for name in FIELDS]
        if services:
            traces = (
                select(t.c.trace_id)
                .where(t.c.service.in_(list(services)), t.c.start_us >= lo, t.c.start_us < hi)
                .distinct()
                .scalar_subquery()
            )
            query = select(*columns).where(t.c.trace_id.in_(traces))
        else:
            query = select(*columns).where(t.c.start_us >= lo, t.c.start_us < hi)
        try:
            with self._engine.connect() as conn:
                # The driver's rows as they come (SQLite's booleans stay 0/1, which behave
                # alike): SQLAlchemy's per-row processing doubled the read of 100,000 spans.
                rows = conn.execute(query.limit(limit)).cursor.fetchall()
        except OperationalError as error:
            raise TracesUnavailable(f"the embedded trace store cannot be read: {error.orig}") from None
        make = Span._make
        return [make(row) for row in rows]

    def pending(self, before: datetime, limit: int) -> list[TraceSummary]:
        cutoff = micros(before)
        late = select(t.c.trace_id).where(t.c.decided.is_(False), t.c.received_us >= cutoff)
        query = (
            select(t.c.trace_id, func.max(t.c.duration_us), func.count().filter(t.c.error.is_(True)))
            .where(t.c.decided.is_(False), t.c.received_us < cutoff, t.c.trace_id.not_in(late))
            .group_by(t.c.trace_id)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [TraceSummary(row[0], bool(row[2]), int(row[1])) for row in conn.execute(query)]

    def keep(self, weights: Mapping[str, float]) -> None:
        by_weight: dict[float, list[str]] = {}
        for trace_id, weight in weights.items():
            by_weight.setdefault(weight, []).append(trace_id)
        with self._engine.begin() as conn:
            for weight, ids in by_weight.items():
                for chunk in _chunks(ids):
                    conn.execute(
                        update(t)
                        .where(t.c.trace_id.in_(chunk), t.c.decided.is_(False))
                        .values(decided=True, weight=weight)
                    )

    def drop(self, trace_ids: Sequence[str]) -> int:
        removed = 0
        with self._engine.begin() as conn:
            for chunk in _chunks(list(trace_ids)):
                result = conn.execute(delete(t).where(t.c.trace_id.in_(chunk), t.c.decided.is_(False)))
                removed += result.rowcount
        return removed

    def prune(self, before: datetime) -> int:
        with self._engine.begin() as conn:
            return conn.execute(delete(t).where(t.c.received_us < micros(before))).rowcount

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())


def _chunks(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
