"""What the X-ray needs, built by the composition root from ``[xray]``."""

from __future__ import annotations

from dataclasses import dataclass, field

from warroom.domain.xray.analysis import AnalysisPolicy
from warroom.domain.xray.sampling import SamplingPolicy
from warroom.services.ports.xray import TraceSource, TraceStore


@dataclass(frozen=True)
class XrayConfig:
    """``source``: where the analysis reads spans (None: nowhere); ``store``: the embedded
    store OTLP ingest writes to (None: ingest is off, e.g. when a team reads Tempo)."""

    source: TraceSource | None
    store: TraceStore | None
    analysis: AnalysisPolicy = field(default_factory=AnalysisPolicy)
    sampling: SamplingPolicy = field(default_factory=SamplingPolicy)
    timeout: float = 5.0
    window_minutes: float = 30.0
    baseline_minutes: float = 30.0
    max_spans: int = 200_000
