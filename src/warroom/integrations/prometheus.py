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
    """Prometheus gave no usable answer; the message is one line, fit for a human.

    `rejected` is True when Prometheus answered but refused this query (a 4xx or a
    `bad_data` error: the query is wrong, not the server), so a caller may go on with
    other queries; it is False when the server itself is unreachable, slow or failing.
    """

    def __init__(self, message: str, *, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


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

    def query(self, expr: str, at: datetime, *, timeout: float | None = None) -> list[Sample]:
        """Evaluate `expr` at `at` (aware). A scalar result becomes one unlabelled sample.

        `timeout` shortens this call's limit below the client's (never lengthens it).
        """
        data = self._get("/api/v1/query", {"query": expr, "time": _unix(at)}, timeout)
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

    def query_range(
        self,
        expr: str,
        start: datetime,
        end: datetime,
        step: timedelta,
        *,
        timeout: float | None = None,
    ) -> list[Series]:
        """Evaluate `expr` every `step` from `start` to `end` (aware), one Series per result.

        `timeout` shortens this call's limit below the client's (never lengthens it).
        """
        if step <= timedelta(0):
            raise ValueError(f"step must be positive, got {step}")
        params = {
            "query": expr,
            "start": _unix(start),
            "end": _unix(end),
            "step": format(step.total_seconds(), "g"),
        }
        data = self._get("/api/v1/query_range", params, timeout)
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

    def _get(self, path: str, params: dict[str, str], timeout: float | None = None) -> dict[str, Any]:
        """GET an API path and return its `data`, or raise PrometheusUnavailable."""
        limit = self.timeout if timeout is None else min(self.timeout, timeout)
        if limit <= 0:
            raise self._unavailable(f"was not asked: no time left of the {self.timeout:g} s allowed")
        # Ask Prometheus to give up before we do, so its error says why.
        params = {**params, "timeout": _duration(limit)}
        deadline = time.monotonic() + limit
        try:
            with self._client.stream("GET", path, params=params, timeout=httpx.Timeout(limit)) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if time.monotonic() > deadline:
                        raise self._unavailable(f"did not answer within {limit:g} s")
        except httpx.TimeoutException as exc:
            raise self._unavailable(f"did not answer within {limit:g} s") from exc
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
                raise self._unavailable(
                    f"answered HTTP {status} {reason}", rejected=_rejects(status)
                ) from exc
            raise self._unavailable(f"returned malformed JSON (HTTP {status})") from exc
        if not isinstance(payload, dict):
            raise self._unavailable(f"returned JSON that is not an API response (HTTP {status})")
        if payload.get("status") == "error" or status >= 400:
            kind = payload.get("errorType", "error")
            error = _first_line(payload.get("error", "no error message"))
            rejected = kind == "bad_data" or _rejects(status)
            raise self._unavailable(f"refused the query (HTTP {status} {kind}): {error}", rejected=rejected)
        data = payload.get("data")
        if payload.get("status") != "success" or not isinstance(data, dict):
            raise self._unavailable(f"returned JSON without a successful 'data' (HTTP {status})")
        return data

    def _unavailable(self, what: str, *, rejected: bool = False) -> PrometheusUnavailable:
        return PrometheusUnavailable(f"Prometheus at {self.base_url} {what}", rejected=rejected)


def _rejects(status: int) -> bool:
    """A 4xx other than 429 (rate limited) says the query is wrong, not the server."""
    return 400 <= status < 500 and status != 429


def _duration(seconds: float) -> str:
    """A duration Prometheus parses: whole seconds as "2s", anything else in milliseconds.

    Prometheus's duration syntax has no fractions ("1.5s" is refused), so 1.5 s is "1500ms".
    """
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{max(1, round(seconds * 1000))}ms"


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
