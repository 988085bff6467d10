"""An incident's X-ray: the call graph now vs a baseline window, where failures originate,
retries vs timeouts, retry amplification, and the verdict (see ``verdict``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from warroom.domain.xray.graph import Failure, Hop, Trace, traces_of
from warroom.domain.xray.spans import Span, failure_kind, is_timeout


@dataclass(frozen=True)
class AnalysisPolicy:
    """``client_timeout_ms``: a failed call this long counts as a timeout; ``amplification``:
    calls per request this many times the baseline's (or more) is retry amplification."""

    client_timeout_ms: float = 5000.0
    amplification: float = 1.5


@dataclass(frozen=True)
class EdgeStats:
    calls: float  # weighted: how many calls the kept spans stand for
    rate: float  # calls per second
    error_ratio: float
    p99_ms: float
    timeouts: float
    retries: float
    per_request: float  # calls per request that made the call at all


@dataclass(frozen=True)
class Edge:
    hop: Hop
    now: EdgeStats
    baseline: EdgeStats | None


@dataclass(frozen=True)
class Origin:
    """Failed requests of ``root_service`` whose error starts at ``hop``."""

    hop: Hop
    failures: float
    share: float
    kind: str  # timeout, http 503, grpc 14, error
    typical_ms: float
    path: tuple[str, ...]
    owners: tuple[tuple[str, str], ...]  # (service, team) along the path, where known


@dataclass(frozen=True)
class XrayReport:
    requests: float
    failed: float
    root_service: str
    edges: tuple[Edge, ...]
    origins: tuple[Origin, ...]
    amplified: tuple[Edge, ...]
    spans: int
    baseline_spans: int
    verdict: str = ""
    owners: Mapping[str, str] = field(default_factory=dict)


def weighted_quantile(values: Sequence[tuple[int, float]], q: float) -> float:
    """The ``q`` quantile of (value, weight) pairs."""
    if not values:
        return 0.0
    ordered = sorted(values)
    total = sum(w for _, w in ordered)
    threshold, seen = q * total, 0.0
    for value, weight in ordered:
        seen += weight
        if seen >= threshold:
            return float(value)
    return float(ordered[-1][0])


def edge_stats(traces: Sequence[Trace], seconds: float, timeout_us: int) -> dict[Hop, EdgeStats]:
    """Per hop: rate, error ratio, p99, timeouts, retries, calls per request."""
    # per hop: [calls, errors, timeouts, retries, requests], and the (duration, weight) pairs
    sums: dict[tuple[str, str, str], list[float]] = {}
    durations: dict[tuple[str, str, str], list[tuple[int, float]]] = {}
    for trace in traces:
        weight = trace.weight
        siblings: set[tuple[tuple[str, str, str], str]] = set()
        seen: set[tuple[str, str, str]] = set()
        for hop, span, parent_id in trace.calls():
            row = sums.get(hop)
            if row is None:
                row = sums[hop] = [0.0, 0.0, 0.0, 0.0, 0.0]
                durations[hop] = []
            row[0] += weight
            durations[hop].append((span.duration_us, weight))
            if span.error:
                row[1] += weight
                if is_timeout(span, timeout_us):
                    row[2] += weight
            key = (hop, parent_id)
            if span.resend > 0 or key in siblings:
                row[3] += weight
            siblings.add(key)
            if hop not in seen:
                seen.add(hop)
                row[4] += weight
    span_s = max(seconds, 1e-9)
    return {
        Hop(*hop): EdgeStats(
            calls=row[0],
            rate=row[0] / span_s,
            error_ratio=row[1] / row[0],
            p99_ms=weighted_quantile(durations[hop], 0.99) / 1000,
            timeouts=row[2],
            retries=row[3],
            per_request=row[0] / row[4],
        )
        for hop, row in sums.items()
    }


def _origins(
    failures: Sequence[Failure], root_service: str, timeout_us: int, owners: Mapping[str, str]
) -> tuple[Origin, ...]:
    mine = [f for f in failures if f.root.service == root_service]
    total = sum(f.root.weight for f in mine)
    grouped: dict[Hop, list[Failure]] = defaultdict(list)
    for failure in mine:
        grouped[failure.hop].append(failure)
    found = []
    for hop, group in grouped.items():
        weight = sum(f.root.weight for f in group)
        kinds = Counter(failure_kind(f.origin, timeout_us) for f in group)
        paths = Counter(f.path for f in group)
        path = paths.most_common(1)[0][0]
        durations = sorted(f.origin.duration_us for f in group)
        found.append(
            Origin(
                hop=hop,
                failures=weight,
                share=weight / total if total else 0.0,
                kind=kinds.most_common(1)[0][0],
                typical_ms=durations[len(durations) // 2] / 1000,
                path=path,
                owners=tuple((s, owners[s]) for s in path if s in owners),
            )
        )
    found.sort(key=lambda o: (-o.failures, o.hop.caller, o.hop.callee, o.hop.operation))
    return tuple(found)


def analyze(
    now: Sequence[Span],
    baseline: Sequence[Span],
    *,
    now_seconds: float,
    baseline_seconds: float,
    owners: Mapping[str, str],
    policy: AnalysisPolicy | None = None,
) -> XrayReport:
    """The X-ray of the spans of a window (``now``) against those of a healthy window.

    ``owners`` maps a service to its owning team (the catalog's). The verdict is left
    empty: :func:`warroom.domain.xray.verdict.xray` fills it.
    """
    policy = policy or AnalysisPolicy()
    timeout_us = int(policy.client_timeout_ms * 1000)
    now_traces = traces_of(now)
    base_traces = traces_of(baseline)
    now_edges = edge_stats(now_traces, now_seconds, timeout_us)
    base_edges = edge_stats(base_traces, baseline_seconds, timeout_us)
    edges = tuple(
        sorted(
            (Edge(hop, stats, base_edges.get(hop)) for hop, stats in now_edges.items()),
            key=lambda e: (-e.now.error_ratio * e.now.calls, -e.now.calls, e.hop.caller, e.hop.callee),
        )
    )
    failures = [f for f in (t.failure() for t in now_traces) if f is not None]
    by_root: dict[str, float] = defaultdict(float)
    for failure in failures:
        by_root[failure.root.service] += failure.root.weight
    roots: dict[str, float] = defaultdict(float)
    for trace in now_traces:
        roots[trace.root.service] += trace.weight
    root_service = _most(by_root) or _most(roots)
    amplified = tuple(
        e
        for e in edges
        if e.baseline is not None and e.now.per_request >= policy.amplification * e.baseline.per_request
    )
    return XrayReport(
        requests=float(roots.get(root_service, 0.0)),
        failed=float(by_root.get(root_service, 0.0)),
        root_service=root_service,
        edges=edges,
        origins=_origins(failures, root_service, timeout_us, owners),
        amplified=amplified,
        spans=len(now),
        baseline_spans=len(baseline),
        owners=dict(owners),
    )


def _most(weights: Mapping[str, float]) -> str:
    """The key of the largest weight (ties: the first name), or "" when there is none."""
    return min(weights, key=lambda k: (-weights[k], k)) if weights else ""
