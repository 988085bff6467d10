"""The MetricsSource adapter over an httpx.MockTransport that speaks the Prometheus API."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.impact.fakes import T0
from warroom.integrations.prometheus_metrics import PrometheusMetrics
from warroom.services.ports.impact import MetricsUnavailable

STEP = timedelta(seconds=15)


def matrix(request: httpx.Request) -> httpx.Response:
    value = [[T0.timestamp(), "0.25"]]
    data = {"resultType": "matrix", "result": [{"metric": {"region": "eu-west"}, "values": value}]}
    return httpx.Response(200, json={"status": "success", "data": data})


def source(
    handler: object, url: str | None = "http://default:9090", timeout: float = 2.0
) -> PrometheusMetrics:
    return PrometheusMetrics(url, timeout, transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_a_range_query_becomes_labelled_series() -> None:
    [series] = source(matrix).query_range("up", T0 - STEP, T0, STEP)

    assert series.labels == {"region": "eu-west"}
    assert series.points == ((T0, 0.25),)


def test_a_service_url_overrides_the_default_and_each_server_keeps_its_client() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return matrix(request)

    metrics = source(handler)
    metrics.query_range("up", T0 - STEP, T0, STEP)
    metrics.query_range("up", T0 - STEP, T0, STEP, url="http://shop-prom:9090/")
    metrics.query_range("up", T0 - STEP, T0, STEP, url="http://shop-prom:9090")

    assert hosts == ["default", "shop-prom", "shop-prom"]
    assert len(metrics._clients) == 2


def test_no_url_anywhere_is_unavailable_in_one_line() -> None:
    metrics = source(matrix, url=None)

    assert not metrics.has_url() and metrics.has_url("http://own:9090")
    with pytest.raises(MetricsUnavailable, match=r"^no Prometheus URL configured \(impact.prometheus_url"):
        metrics.query_range("up", T0 - STEP, T0, STEP)


def test_a_refused_query_is_marked_rejected_and_a_failing_server_is_not() -> None:
    def bad_query(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "parse error"})

    def overloaded(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="service unavailable")

    with pytest.raises(MetricsUnavailable) as refused:
        source(bad_query).query_range("sum(", T0 - STEP, T0, STEP)
    with pytest.raises(MetricsUnavailable) as failing:
        source(overloaded).query_range("up", T0 - STEP, T0, STEP)

    assert refused.value.rejected and not failing.value.rejected
    assert str(failing.value) == "Prometheus at http://default:9090 answered HTTP 503 Service Unavailable"


def test_a_shorter_timeout_per_query_is_passed_on_and_sent_to_prometheus() -> None:
    timeouts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.url.params["timeout"])
        return matrix(request)

    metrics = source(handler, timeout=5.0)
    metrics.query_range("up", T0 - STEP, T0, STEP, timeout=1.5)
    metrics.query_range("up", T0 - STEP, T0, STEP, timeout=60)
    metrics.query_range("up", T0 - STEP, T0, STEP)

    # Prometheus parses "1500ms" but refuses "1.5s"; a longer timeout never lengthens the cap.
    assert timeouts == ["1500ms", "5s", "5s"]


def test_no_time_left_fails_without_asking() -> None:
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return matrix(request)

    with pytest.raises(MetricsUnavailable, match="no time left"):
        source(handler).query_range("up", T0 - STEP, T0, STEP, timeout=0.0)
    assert asked == []
