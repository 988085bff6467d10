"""Honest fakes for the impact probe: a MetricsSource over functions of time, a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from warroom.domain.incidents.catalog import Catalog, Indicator, Service, Team
from warroom.services.ports.impact import MetricSeries, MetricsUnavailable

Value = Callable[[datetime], float | None]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "http://prometheus.test:9090"


@dataclass
class FakeClock:
    at: datetime = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@dataclass
class FakeMetrics:
    """A MetricsSource that evaluates registered queries as functions of time.

    ``add(expr, {"region": "eu-west"}, fn)`` registers one series of the rendered query
    ``expr``; ``query_range`` samples every registered series at ``start + k * step``
    (a value of None is a missing sample). An unknown query is refused as Prometheus
    refuses a bad one. ``down`` makes every query fail like an unreachable server;
    ``delay`` makes it answer that late, or fail at the caller's timeout.
    """

    series: dict[str, list[tuple[dict[str, str], Value]]] = field(default_factory=dict)
    down: str | None = None
    delay: float = 0.0
    calls: list[tuple[str, float | None]] = field(default_factory=list)
    configured: bool = True

    def add(self, expr: str, labels: dict[str, str], value: Value) -> None:
        self.series.setdefault(expr, []).append((labels, value))

    def has_url(self, url: str | None = None) -> bool:
        return self.configured or url is not None

    def query_range(
        self,
        expr: str,
        start: datetime,
        end: datetime,
        step: timedelta,
        *,
        url: str | None = None,
        timeout: float | None = None,
    ) -> list[MetricSeries]:
        self.calls.append((expr, timeout))
        if self.down is not None:
            raise MetricsUnavailable(f"Prometheus at {URL} {self.down}")
        if self.delay:
            if timeout is not None and timeout < self.delay:
                time.sleep(timeout)
                raise MetricsUnavailable(f"Prometheus at {URL} did not answer within {timeout:g} s")
            time.sleep(self.delay)
        if expr not in self.series:
            raise MetricsUnavailable(
                f"Prometheus at {URL} refused the query (HTTP 400 bad_data): unknown {expr!r}", rejected=True
            )
        found: list[MetricSeries] = []
        for labels, value in self.series[expr]:
            points: list[tuple[datetime, float]] = []
            at = start
            while at <= end:
                v = value(at)
                if v is not None:
                    points.append((at, v))
                at += step
            if points:
                found.append(MetricSeries(labels, tuple(points)))
        return found


ERRORS = "sum by ($by) (errors)"
LATENCY = "histogram_quantile(0.95, sum by (le, $by) (latency))"
TRAFFIC = "sum by ($by) (requests)"


def shop_catalog(*, indicators: tuple[Indicator, ...] | None = None, url: str | None = None) -> Catalog:
    """One service, ``shop``, with an error ratio, a p95 latency and traffic by region."""
    if indicators is None:
        indicators = (
            Indicator("error_ratio", ERRORS, 0.05, split_by=("region",), unit="errors", kind="error_ratio"),
            Indicator("latency_p95", LATENCY, 0.5, split_by=("region",), unit="s", kind="latency"),
            Indicator(
                "traffic",
                TRAFFIC,
                1.0,
                higher_is_worse=False,
                split_by=("region",),
                unit="req/s",
                kind="traffic",
            ),
        )
    shop = Service(
        "shop",
        "storefront",
        indicators=indicators,
        prometheus_url=url,
        revenue_per_minute=600.0,
        user_share=1.0,
    )
    return Catalog(services=(shop,), teams=(Team("storefront", ("alice",)),))


REGIONS = ("us-east", "eu-west", "ap-south")


def regional(
    metrics: FakeMetrics,
    query: str,
    by_region: dict[str, Value],
    *,
    weights: dict[str, float] | None = None,
) -> None:
    """Register ``query`` by region and as a whole (the traffic-weighted mean, or the sum)."""
    weights = weights or dict.fromkeys(by_region, 1.0)
    for region, value in by_region.items():
        metrics.add(query.replace("$by", "region"), {"region": region}, value)

    def whole(at: datetime) -> float | None:
        values = [(by_region[r](at), weights[r]) for r in by_region]
        known = [(v, w) for v, w in values if v is not None]
        if not known:
            return None
        return sum(v * w for v, w in known) / sum(w for _, w in known)

    rendered = query.replace(", $by", "").replace("$by", "")
    metrics.add(rendered, {}, whole)


def traffic(metrics: FakeMetrics, per_region: float = 60.0) -> None:
    for region in REGIONS:
        metrics.add(TRAFFIC.replace("$by", "region"), {"region": region}, lambda at, v=per_region: v)
    metrics.add(TRAFFIC.replace("$by", ""), {}, lambda at: per_region * len(REGIONS))
