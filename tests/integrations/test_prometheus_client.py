"""PrometheusClient against an httpx.MockTransport that speaks the Prometheus HTTP API."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from warroom.integrations.prometheus import PrometheusClient, PrometheusUnavailable

URL = "http://prometheus.test:9090"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler, timeout: float = 2.0) -> PrometheusClient:
    return PrometheusClient(URL, timeout=timeout, transport=httpx.MockTransport(handler))


def success(data: object) -> httpx.Response:
    return httpx.Response(200, json={"status": "success", "data": data})


def test_an_instant_query_returns_labelled_samples_with_string_values_parsed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return success(
            {
                "resultType": "vector",
                "result": [
                    {"metric": {"region": "eu-west"}, "value": [NOW.timestamp(), "0.1326"]},
                    {"metric": {"region": "us-east"}, "value": [NOW.timestamp(), "NaN"]},
                    {"metric": {"region": "ap-south"}, "value": [NOW.timestamp(), "+Inf"]},
                ],
            }
        )

    samples = client_for(handler).query("error_ratio", at=NOW)

    assert [s.labels["region"] for s in samples] == ["eu-west", "us-east", "ap-south"]
    assert samples[0].value == 0.1326
    assert math.isnan(samples[1].value)
    assert samples[2].value == math.inf
    assert samples[0].at == NOW
    (request,) = seen
    assert request.url.path == "/api/v1/query"
    assert request.url.params["query"] == "error_ratio"
    assert float(request.url.params["time"]) == NOW.timestamp()
    assert request.url.params["timeout"] == "2s"


def test_an_empty_result_is_an_empty_list_not_zero() -> None:
    client = client_for(lambda _: success({"resultType": "vector", "result": []}))

    assert client.query("errors / total", at=NOW) == []


def test_a_scalar_result_is_one_unlabelled_sample() -> None:
    client = client_for(lambda _: success({"resultType": "scalar", "result": [NOW.timestamp(), "1"]}))

    (sample,) = client.query("1", at=NOW)

    assert sample.labels == {}
    assert sample.value == 1.0


def test_a_range_query_returns_one_series_per_label_set_with_its_points() -> None:
    seen: list[httpx.Request] = []
    t0 = NOW.timestamp()

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return success(
            {
                "resultType": "matrix",
                "result": [
                    {"metric": {"region": "eu-west"}, "values": [[t0, "0"], [t0 + 2, "0.4"]]},
                    {"metric": {"region": "us-east"}, "values": [[t0, "0"], [t0 + 2, "NaN"]]},
                ],
            }
        )

    series = client_for(handler).query_range("ratio", NOW, NOW + timedelta(seconds=2), timedelta(seconds=2))

    assert [s.labels for s in series] == [{"region": "eu-west"}, {"region": "us-east"}]
    assert series[0].points == ((NOW, 0.0), (NOW + timedelta(seconds=2), 0.4))
    assert math.isnan(series[1].points[1][1])
    params = seen[0].url.params
    assert (seen[0].url.path, params["step"]) == ("/api/v1/query_range", "2")
    assert float(params["end"]) - float(params["start"]) == 2.0


def test_a_refused_connection_raises_prometheus_unavailable_naming_the_server() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(PrometheusUnavailable) as caught:
        client_for(handler).query("up", at=NOW)

    assert str(caught.value) == (
        f"Prometheus at {URL} refused the connection ([Errno 111] Connection refused)"
    )


def test_a_timeout_raises_prometheus_unavailable_saying_how_long_it_waited() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(PrometheusUnavailable, match=r"did not answer within 1\.5 s$"):
        client_for(handler, timeout=1.5).query("up", at=NOW)


def test_a_body_that_trickles_in_past_the_timeout_is_abandoned() -> None:
    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(50):
                time.sleep(0.02)
                yield b" "

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle())

    started = time.monotonic()
    with pytest.raises(PrometheusUnavailable, match=r"did not answer within 0\.1 s$"):
        client_for(handler, timeout=0.1).query("up", at=NOW)

    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("status", "error_type", "error"),
    [
        (400, "bad_data", 'invalid parameter "query": 1:5: parse error: unexpected <EOF>'),
        (422, "execution", "query processing would load too many samples into memory"),
        (503, "timeout", "query timed out in expression evaluation"),
    ],
)
def test_an_error_body_raises_prometheus_unavailable_with_its_message(
    status: int, error_type: str, error: str
) -> None:
    body = {"status": "error", "errorType": error_type, "error": error, "warnings": ["w"]}
    client = client_for(lambda _: httpx.Response(status, json=body))

    with pytest.raises(PrometheusUnavailable) as caught:
        client.query("rate(", at=NOW)

    assert str(caught.value) == (
        f"Prometheus at {URL} refused the query (HTTP {status} {error_type}): {error}"
    )


def test_an_http_error_without_a_json_body_names_the_status() -> None:
    client = client_for(lambda _: httpx.Response(502, text="<html>Bad Gateway</html>"))

    with pytest.raises(PrometheusUnavailable, match=r"answered HTTP 502 Bad Gateway$"):
        client.query("up", at=NOW)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"status": "success"}),
        json.dumps({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}),
        json.dumps(
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, 2]}]},
            }
        ),
        json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}),
    ],
    ids=["not-json", "not-an-object", "no-data", "no-value", "number-value", "wrong-type"],
)
def test_malformed_answers_raise_prometheus_unavailable(body: str) -> None:
    client = client_for(lambda _: httpx.Response(200, text=body))

    with pytest.raises(PrometheusUnavailable) as caught:
        client.query("up", at=NOW)

    message = str(caught.value)
    assert message.startswith(f"Prometheus at {URL} returned ")
    assert "\n" not in message


def test_a_range_query_refuses_a_vector_answer() -> None:
    client = client_for(lambda _: success({"resultType": "vector", "result": []}))

    with pytest.raises(PrometheusUnavailable, match="where a matrix was expected"):
        client.query_range("up", NOW, NOW, timedelta(seconds=1))


def test_naive_query_times_are_refused_before_anything_is_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing should be sent")

    with pytest.raises(ValueError, match="timezone-aware"):
        client_for(handler).query("up", at=datetime(2026, 3, 1, 12, 0))
