"""The impact probe's window on the metrics: a range query and its failures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# --- the impact probe's window on the metrics ----------------------------------------


class MetricsUnavailable(Exception):
    """The metrics backend gave no usable answer; the message is one line for a person.

    `rejected` is True when the backend answered but refused this one query (a wrong
    query), so other queries may still work; False when the backend itself is down,
    slow or failing, and asking it again within the same command is pointless.
    """

    def __init__(self, message: str, *, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


@dataclass(frozen=True)
class MetricSeries:
    """One labelled series of a range query: (aware UTC time, value) points, oldest first."""

    labels: Mapping[str, str]
    points: tuple[tuple[datetime, float], ...]


class MetricsSource(Protocol):
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
        """Evaluate PromQL ``expr`` every ``step`` from ``start`` to ``end``.

        ``url`` names the Prometheus to ask (None: the configured default); ``timeout``
        caps this call in seconds (below the source's own limit). Raises
        ``MetricsUnavailable`` for every failure to get an answer.
        """
        ...

    def has_url(self, url: str | None = None) -> bool:
        """Whether a Prometheus is configured for ``url`` (None: the default)."""
        ...
