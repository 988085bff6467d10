"""A small client for the Prometheus HTTP API: instant and range queries.

Every failure to get an answer — connection refused, timeout, an HTTP error, a
`{"status": "error"}` body, JSON that is not what the API documents — raises one
exception, `PrometheusUnavailable`, whose message is one line naming the server and the
cause, so callers can say "the impact probe is blind" without knowing httpx.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

__all__ = ["PrometheusClient", "PrometheusUnavailable", "Sample", "Series"]


class PrometheusUnavailable(Exception):
    """Prometheus gave no usable answer; the message is one line, fit for a human."""


@dataclass(frozen=True)
class Sample:
    """One value of an instant query: the series labels, the evaluation time, the value."""

    labels: Mapping[str, str]
    at: datetime
    value: float


@dataclass(frozen=True)
class Series:
    """One series of a range query; its points are (aware UTC time, value), oldest first."""

    labels: Mapping[str, str]
    points: tuple[tuple[datetime, float], ...]


class PrometheusClient:
    """Queries one Prometheus server.

    Each call is bounded by `timeout` seconds: connecting, sending and each wait for
    data are limited by httpx, reading the body stops once `timeout` has passed since
    the request began, and Prometheus itself is asked to abort the evaluation by then.
    `transport` lets tests put an `httpx.MockTransport` in place of the network.
    """

    def __init__(self, base_url: str, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def query(self, expr: str, at: datetime) -> list[Sample]:
        """Evaluate `expr` at `at` (aware). A scalar result becomes one unlabelled sample."""
        data = self._get("/api/v1/query", {"query": expr, "time": _unix(at)})
        kind: Any = data.get("resultType")
        result: Any = data.get("result")
        try:
            if kind == "vector":
                return [_sample(item["metric"], item["value"]) for item in result]
            if kind == "scalar":
                return [_sample({}, result)]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise self._unavailable(f"returned a malformed {kind} result ({exc!r})") from exc
        raise self._unavailable(f"returned a {kind!r} result where a vector was expected")

    def query_range(self, expr: str, start: datetime, end: datetime, step: timedelta) -> list[Series]:
        """Evaluate `expr` every `step` from `start` to `end` (aware), one Series per result."""
        if step <= timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        params = {
            "query": expr,
            "start": _unix(start),
            "end": _unix(end),
            "step": format(step.total_seconds(), "g"),
        }
        data = self._get("/api/v1/query_range", params)
        if data.get("resultType") != "matrix":
            raise self._unavailable(
                f"returned a {data.get('resultType')!r} result where a matrix was expected"
            )
        try:
            return [
                Series(
                    labels=dict(item["metric"]),
                    points=tuple(_point(pair) for pair in item["values"]),
                )
                for item in data["result"]
            ]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise self._unavailable(f"returned a malformed matrix result ({exc!r})") from exc

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """GET an API path and return its `data`, or raise PrometheusUnavailable."""
        # Ask Prometheus to give up before we do, so its error says why.
        params = {**params, "timeout": f"{self.timeout:g}s"}
        deadline = time.monotonic() + self.timeout
        try:
            with self._client.stream("GET", path, params=params) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if time.monotonic() > deadline:
                        raise self._unavailable(f"did not answer within {self.timeout:g} s")
        except httpx.TimeoutException as exc:
            raise self._unavailable(f"did not answer within {self.timeout:g} s") from exc
        except httpx.ConnectError as exc:
            raise self._unavailable(f"refused the connection ({_first_line(exc)})") from exc
        except httpx.HTTPError as exc:
            raise self._unavailable(f"failed: {type(exc).__name__}: {_first_line(exc)}") from exc

        status = response.status_code
        try:
            payload = json.loads(body)
        except ValueError as exc:
            if status >= 400:
                reason = response.reason_phrase or "error"
                raise self._unavailable(f"answered HTTP {status} {reason}") from exc
            raise self._unavailable(f"returned malformed JSON (HTTP {status})") from exc
        if not isinstance(payload, dict):
            raise self._unavailable(f"returned JSON that is not an API response (HTTP {status})")
        if payload.get("status") == "error" or status >= 400:
            kind = payload.get("errorType", "error")
            error = _first_line(payload.get("error", "no error message"))
            raise self._unavailable(f"refused the query (HTTP {status} {kind}): {error}")
        data = payload.get("data")
        if payload.get("status") != "success" or not isinstance(data, dict):
            raise self._unavailable(f"returned JSON without a successful 'data' (HTTP {status})")
        return data

    def _unavailable(self, what: str) -> PrometheusUnavailable:
        return PrometheusUnavailable(f"Prometheus at {self.base_url} {what}")


def _unix(at: datetime) -> str:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"query times must be timezone-aware, got naive {at.isoformat()}")
    return format(at.timestamp(), ".3f")


def _point(pair: Any) -> tuple[datetime, float]:
    """A `[<unix seconds>, "<value>"]` pair; values are strings, "NaN" and "+Inf" included."""
    timestamp, value = pair
    if not isinstance(value, str):
        raise ValueError(f"value {value!r} is not a string")
    return datetime.fromtimestamp(float(timestamp), tz=UTC), float(value)


def _sample(metric: Any, pair: Any) -> Sample:
    at, value = _point(pair)
    return Sample(labels=dict(metric), at=at, value=value)


def _first_line(error: object) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
