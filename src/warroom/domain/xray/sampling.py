"""Tail sampling: which finished traces are kept, and what each kept one stands for.

Every error trace and every slow trace is kept (weight 1); of the healthy ones a stable
baseline share is kept, chosen by the trace id (so every replica keeps the same ones),
each standing for ``100 / baseline_percent`` traces, so rates and error ratios computed
from the kept traces stay unbiased.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SamplingPolicy:
    slow_ms: float = 2000.0
    baseline_percent: float = 10.0
    decision_wait_s: float = 30.0
    retention_hours: float = 24.0

    def __post_init__(self) -> None:
        if not 0 <= self.baseline_percent <= 100:
            raise ValueError(f"baseline_percent must be within 0..100, not {self.baseline_percent!r}")


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """What the decision reads of a trace: any error, its longest span, in microseconds."""

    trace_id: str
    error: bool
    longest_us: int


def in_baseline(trace_id: str, percent: float) -> bool:
    """Whether a healthy trace falls in the baseline sample (stable for a trace id)."""
    if percent >= 100:
        return True
    tail = trace_id[-8:]
    try:
        bucket = int(tail, 16) % 10_000
    except ValueError:
        bucket = sum(tail.encode()) % 10_000
    return bucket < percent * 100


def decide(trace: TraceSummary, policy: SamplingPolicy) -> float | None:
    """The weight a kept trace gets, or None when it is dropped."""
    if trace.error or trace.longest_us > policy.slow_ms * 1000:
        return 1.0
    if policy.baseline_percent > 0 and in_baseline(trace.trace_id, policy.baseline_percent):
        return 100.0 / policy.baseline_percent
    return None
