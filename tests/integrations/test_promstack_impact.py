"""The impact probe's pieces against a real Prometheus scraping the demo shop.

A fault is injected into the running shop, measured through PrometheusClient and read
by the domain functions, as the impact probe will do during an incident.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.promstack import PromStack, SharedStack, WebhookReceiver, binaries_available
from warroom.domain.impact.analysis import (
    blast_radius,
    estimate_customer_impact,
    find_baseline,
    judge_mitigation,
)
from warroom.integrations.prometheus import PrometheusClient, PrometheusUnavailable

pytestmark = [pytest.mark.prometheus, pytest.mark.timeout(120)]

_available = binaries_available()
if not _available and os.environ.get("WARROOM_REQUIRE_ALL") != "1":
    pytest.skip(_available.reason, allow_module_level=True)

SLO = 0.05
# Rates over 5 s with a 1 s scrape interval: a fault shows fully once 5 s have passed,
# and a fixed one has left the window after as long again.
RATE_WINDOW = "5s"
SETTLE = 6.0


def error_ratio(by: str) -> str:
    """The error ratio per `by` labels; `or ... * 0` keeps a slice without errors at 0."""
    errors = f'sum by ({by}) (rate(demo_http_requests_total{{job="demo-shop",status=~"5.."}}[{RATE_WINDOW}]))'
    total = f'sum by ({by}) (rate(demo_http_requests_total{{job="demo-shop"}}[{RATE_WINDOW}]))'
    return f"({errors} or {total} * 0) / {total}"


def by_dimension(client: PrometheusClient, expr: str, at: datetime, *labels: str) -> dict[str, float]:
    """{"region=eu-west": 0.13, ...} for an instant query."""
    return {
        ",".join(f"{label}={sample.labels[label]}" for label in labels): sample.value
        for sample in client.query(expr, at)
    }


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def shop(promstack: SharedStack) -> PromStack:
    """The session's stack, healthy again after each test."""
    return promstack.stack


@pytest.fixture
def receiver(promstack: SharedStack) -> WebhookReceiver:
    return promstack.receiver


@pytest.fixture
def client(shop: PromStack) -> Iterator[PrometheusClient]:
    with PrometheusClient(shop.prometheus_url, timeout=2.0) as client:
        yield client


def test_a_fault_in_eu_west_is_measured_and_localised_to_that_region(
    shop: PromStack, client: PrometheusClient, promstack: SharedStack
) -> None:
    # A healthy stretch to find the baseline in: SETTLE s once the last change (an
    # earlier test's) has left the rates, which takes SETTLE s too.
    promstack.wait_until(promstack.settled_at(clears=SETTLE) + SETTLE)
    started = now() - timedelta(seconds=SETTLE)
    impact_start = now()
    shop.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4)
    time.sleep(SETTLE)
    measured_at = now()

    history = client.query_range(error_ratio("region"), started, measured_at, timedelta(seconds=1))
    baselines = {}
    for series in history:
        baseline = find_baseline(
            series.points,
            impact_start,
            slo=SLO,
            window=timedelta(seconds=3),
            search_back=timedelta(minutes=5),
        )
        assert baseline.source == "healthy_window", series.labels
        assert baseline.value is not None
        baselines[f"region={series.labels['region']}"] = baseline.value
    current = by_dimension(client, error_ratio("region"), measured_at, "region")
    radius = blast_radius(current, baselines, threshold=0.02)

    assert [d.dimension for d in radius.deviating] == ["region=eu-west"]
    # A 40% fault on one of three routes is a third of that for the region.
    assert radius.deviating[0].current == pytest.approx(0.4 / 3, abs=0.03)
    assert {d.dimension for d in radius.at_baseline} == {"region=us-east", "region=ap-south"}
    assert re.fullmatch(
        r"region=eu-west [\d.]+% errors; (us-east|ap-south), (us-east|ap-south) at baseline", radius.sentence
    )

    slices = by_dimension(client, error_ratio("region, route"), measured_at, "region", "route")
    failing = slices["region=eu-west,route=/api/checkout"]
    # The load generator spreads traffic evenly over 3 regions x 3 routes.
    assert estimate_customer_impact(failing, traffic_share=1 / 9) == pytest.approx(0.4 / 9, abs=0.005)


def test_turning_off_the_flag_behind_the_fault_is_judged_effective(
    shop: PromStack, client: PrometheusClient
) -> None:
    checkout_eu = error_ratio("region, route")
    key = "region=eu-west,route=/api/checkout"
    shop.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4)
    time.sleep(SETTLE)
    before = by_dimension(client, checkout_eu, now(), "region", "route")[key]

    shop.set_flag("new_payment_flow", enabled=False)
    time.sleep(SETTLE)
    after = by_dimension(client, checkout_eu, now(), "region", "route")[key]

    outcome = judge_mitigation(before, after, slo=SLO, min_improvement_share=0.5)
    assert outcome.verdict == "effective", outcome
    assert before == pytest.approx(0.4, abs=0.05)
    assert after < SLO


def test_a_fault_the_flag_did_not_cause_stays_and_is_judged_ineffective(
    shop: PromStack, client: PrometheusClient
) -> None:
    checkout_eu = error_ratio("region, route")
    key = "region=eu-west,route=/api/checkout"
    shop.inject_fault(region="eu-west", route="/api/checkout", error_ratio=0.4, flag=None)
    time.sleep(SETTLE)
    before = by_dimension(client, checkout_eu, now(), "region", "route")[key]

    shop.set_flag("new_payment_flow", enabled=False)
    time.sleep(SETTLE)
    after = by_dimension(client, checkout_eu, now(), "region", "route")[key]

    outcome = judge_mitigation(before, after, slo=SLO, min_improvement_share=0.5)
    assert outcome.verdict == "ineffective", outcome
    assert after == pytest.approx(0.4, abs=0.05)


def test_a_lasting_fault_reaches_the_webhook_as_a_firing_alert_naming_the_slice(
    shop: PromStack, receiver: WebhookReceiver
) -> None:
    # A slice of its own: an eu-west alert from an earlier test may still be firing
    # (the rule rates over 10 s), and Alertmanager would not announce it again.
    receiver.bodies.clear()
    shop.inject_fault(region="ap-south", route="/api/search", error_ratio=0.4)

    # `for: 10s`, then Alertmanager's group_wait of 1 s; allow generously for a loaded machine.
    deadline = time.monotonic() + 60
    firing: list[dict[str, Any]] = []
    while not firing and time.monotonic() < deadline:
        time.sleep(0.2)
        firing = [
            alert
            for body in receiver.bodies
            for alert in body["alerts"]
            if alert["status"] == "firing"
            and alert["labels"]["alertname"] == "DemoHighErrorRatio"
            and alert["labels"]["region"] == "ap-south"
        ]

    assert firing, f"no firing alert within 60 s; received {receiver.bodies}"
    labels = firing[0]["labels"]
    assert (labels["route"], labels["service"], labels["severity"]) == (
        "/api/search",
        "demo-shop",
        "critical",
    )
    # The summary states the measured ratio (humanizePercentage): near the injected 40%,
    # on either side of it (a 10 s rate over a random sample reads 39.78% as well as 41%).
    summary = firing[0]["annotations"]["summary"]
    stated = re.fullmatch(r"demo-shop /api/search in ap-south fails ([\d.]+)% of requests", summary)
    assert stated, summary
    assert float(stated[1]) == pytest.approx(40, abs=8), summary


def test_a_prometheus_that_stops_answering_raises_prometheus_unavailable_within_the_timeout() -> None:
    with PromStack() as stack, PrometheusClient(stack.prometheus_url, timeout=1.0) as client:
        assert client.query('up{job="demo-shop"}', now())[0].value == 1.0

        stack.pause_prometheus()
        started = time.monotonic()
        with pytest.raises(PrometheusUnavailable, match=r"did not answer within 1 s$"):
            client.query("up", now())
        assert time.monotonic() - started < 1.5

        stack.stop_prometheus()
        started = time.monotonic()
        with pytest.raises(PrometheusUnavailable, match="refused the connection") as caught:
            client.query_range("up", now() - timedelta(minutes=1), now(), timedelta(seconds=1))
        assert time.monotonic() - started < 1.0
        assert str(caught.value).startswith(f"Prometheus at {stack.prometheus_url} ")
        assert "\n" not in str(caught.value)
