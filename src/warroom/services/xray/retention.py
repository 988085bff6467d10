"""The periodic job that keeps the embedded store bounded: tail sampling, then retention.

A trace is judged once no span of it arrived for ``decision_wait_s``: kept (error, slow, or
in the baseline sample, with its weight) or dropped. Spans older than the retention are
deleted whatever their trace's fate, so the disk holds at most retention x ingest rate x
kept share x bytes per span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.xray.sampling import SamplingPolicy, decide
from warroom.services.ports.xray import TraceStore
from warroom.services.xray.config import XrayConfig

BATCH = 20_000


@dataclass(frozen=True)
class SamplingRound:
    kept: int
    dropped_spans: int
    expired_spans: int


def sample_and_expire(store: TraceStore, policy: SamplingPolicy, now: datetime) -> SamplingRound:
    """Judge the traces that are done and delete expired spans."""
    kept, dropped_spans = 0, 0
    before = now - timedelta(seconds=policy.decision_wait_s)
    while True:
        pending = store.pending(before, BATCH)
        if not pending:
            break
        weights: dict[str, float] = {}
        dropped: list[str] = []
        for trace in pending:
            weight = decide(trace, policy)
            if weight is None:
                dropped.append(trace.trace_id)
            else:
                weights[trace.trace_id] = weight
        store.keep(weights)
        dropped_spans += store.drop(dropped)
        kept += len(weights)
        if len(pending) < BATCH:
            break
    expired = store.prune(now - timedelta(hours=policy.retention_hours))
    return SamplingRound(kept, dropped_spans, expired)


def run_sampling(config: XrayConfig | None, now: datetime) -> int:
    """The job runner's round: how many traces were judged and spans expired (0: X-ray off)."""
    if config is None or config.store is None:
        return 0
    done = sample_and_expire(config.store, config.sampling, now)
    return done.kept + done.dropped_spans + done.expired_spans
