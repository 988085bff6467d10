"""The impact probe's ``MetricsSource`` over Prometheus: one client per server, bounded.

A service may name its own Prometheus (``prometheus_url`` in the catalog); the rest use
the default (``impact.prometheus_url``). Clients are made on first use and reused, so
the CLI that never measures never imports httpx, and the server keeps its connections.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from warroom.services.ports.impact import MetricSeries, MetricsUnavailable

if TYPE_CHECKING:
    import httpx

    from warroom.integrations.prometheus import PrometheusClient


class PrometheusMetrics:
    """``MetricsSource`` for ``default_url`` (None: only services with their own URL).

    ``timeout`` caps every query in seconds; a caller may pass a shorter one per query.
    """

    def __init__(
        self,
        default_url: str | None,
        timeout: float,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.default_url = default_url.rstrip("/") if default_url else None
        self.timeout = timeout
        self._transport = transport
        self._clients: dict[str, PrometheusClient] = {}
        self._lock = threading.Lock()
        # Whoever drops this source without close() (a CLI command, a test) still closes
        # its connections, instead of leaving sockets to the garbage collector.
        self._finalizer = weakref.finalize(self, _close_all, self._clients)

    def has_url(self, url: str | None = None) -> bool:
        return bool(url or self.default_url)

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
        from warroom.integrations.prometheus import PrometheusUnavailable

        client = self._client(url)
        try:
            found = client.query_range(expr, start, end, step, timeout=timeout)
        except PrometheusUnavailable as exc:
            raise MetricsUnavailable(str(exc), rejected=exc.rejected) from exc
        return [MetricSeries(labels=dict(s.labels), points=s.points) for s in found]

    def _client(self, url: str | None) -> PrometheusClient:
        base = (url or self.default_url or "").rstrip("/")
        if not base:
            raise MetricsUnavailable("no Prometheus URL configured (impact.prometheus_url in warroom.toml)")
        with self._lock:
            client = self._clients.get(base)
            if client is None:
                from warroom.integrations.prometheus import PrometheusClient

                client = PrometheusClient(base, self.timeout, transport=self._transport)
                self._clients[base] = client
            return client

    def close(self) -> None:
        with self._lock:
            _close_all(self._clients)


def _close_all(clients: dict[str, PrometheusClient]) -> None:
    for client in clients.values():
        client.close()
    clients.clear()
